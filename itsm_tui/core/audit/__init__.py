"""The audit log: the writer every service calls in its transaction, the reader, and the labels."""
