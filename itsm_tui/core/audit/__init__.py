"""Reading the audit log: the activity list and its filter language. The writer every service calls in
its transaction is ``store.audit``; the words for actions and fields are in ``core.labels``."""
