"""Inventory: the write service (systems, peripherals, networks, stock) beside its list reader."""
