"""`python cli.py …`: the kerasrnn command line, run from a checkout (see `kerasrnn/cli.py`).

`pip install .` gives the same commands as `kerasrnn …`.
"""

from kerasrnn.cli import cli, main

if __name__ == "__main__":
    main()
