"""Exporters: CSV and PDF lists, ticket and asset reports, the analytics report. UI-free: the CLI and
the TUI call the same functions."""
