"""itsm-tui: a keyboard-driven IT service desk for the terminal."""

__version__ = "0.1.0"
