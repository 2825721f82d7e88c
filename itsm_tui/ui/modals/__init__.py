"""Modal dialogs shared by every screen, one module per kind."""
