"""itsm-tui: a keyboard-driven IT service desk for the terminal."""

__version__ = "0.2.0"

import logging as _logging

# Diagnostics go to the log file (core/logs.py) or nowhere: never to a user's terminal.
_logging.getLogger(__name__).addHandler(_logging.NullHandler())
