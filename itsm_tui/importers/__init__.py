"""Importers: bring tickets and inventory over from other tools' exports (UI-free, like the core)."""
