"""Tickets: the lifecycle rules, the write service, the list reader and its filter language,
saved views, timelines, SLA, alerts, assignment and analytics."""
