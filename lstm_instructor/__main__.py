"""``python -m lstm_instructor COMMAND ...``: the instructor's command line, :mod:`lstm_instructor.cli`."""

import sys

from lstm_instructor.cli import main

if __name__ == "__main__":
    sys.exit(main())
