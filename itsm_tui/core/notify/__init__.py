"""Notifications to users and their e-mail outbox."""
