"""The command line: ``itsm-tui`` and ``python -m itsm_tui`` (parser and dispatch in main.py)."""
