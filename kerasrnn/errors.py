"""The one exception type that means "the user asked for something that cannot be done".

Library code raises `UserInputError` with a one-line message for bad input (a missing file, an
unknown cell name, a corpus too small, ...). The CLI turns exactly this type into a one-line error
and a non-zero exit; any other exception is a bug and keeps its traceback.
"""


class UserInputError(ValueError):
    """Bad input from the user, with a message that fits on one line and says what to do."""
