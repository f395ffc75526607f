"""The exception types that mean "the user asked for something that cannot be done".

Library code raises `UserInputError` with a one-line message for bad input (a missing file, an
unknown cell name, a corpus too small, ...). The CLI turns exactly these types into a one-line
error and a non-zero exit: 2 for an `OptionError` (an option that does not fit the command, as
click's usage errors), 1 for any other `UserInputError`.
"""


class UserInputError(ValueError):
    """Bad input from the user, with a message that fits on one line and says what to do."""


class OptionError(UserInputError):
    """An option that does not apply to what was asked (e.g. `--pair` for the charlm task)."""
