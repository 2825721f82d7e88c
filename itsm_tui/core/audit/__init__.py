"""Reading the audit log (the activity list and its filter language) and the words for its actions
and fields. The writer every service calls in its transaction is ``store.audit``."""
