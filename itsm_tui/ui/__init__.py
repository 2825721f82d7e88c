"""The Textual terminal app: a thin shell over the core services."""
