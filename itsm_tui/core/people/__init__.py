"""People: users, authentication and the role permissions."""
