"""The UI-free core: models, database, services and rules shared by the CLI, TUI and exporters.

Nothing in this package may import ``textual`` (a test enforces it).
"""
