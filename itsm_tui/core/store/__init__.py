"""The store: database connection, models, schema, and the write helpers every service shares
(optimistic locking in records, idempotency keys in requests)."""
