"""The store: database connection, models, schema, and the write helpers every service shares: the
audit writer, optimistic locking (records) and idempotency keys (requests)."""
