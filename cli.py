"""`python cli.py …`: the kerasrnn command line, run from a checkout (the commands live in the
package `kerasrnn/cli/`).

`pip install .` gives the same commands as `kerasrnn …`; hints in messages name whichever the user typed.
"""

from kerasrnn.cli import cli, main

if __name__ == "__main__":
    main()
