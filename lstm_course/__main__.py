"""``python -m lstm_course COMMAND ...``: the command line, :mod:`lstm_course.cli`."""

import sys

from lstm_course.cli import main

if __name__ == "__main__":
    sys.exit(main())
