"""Exporters (CSV now; PDF later). UI-free: the CLI and the TUI call the same functions."""
