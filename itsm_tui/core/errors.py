"""Errors the services raise. Each carries a message fit to show a user as is."""


class ItsmError(Exception):
    """Base class for every error a user can cause and should read."""


class ValidationError(ItsmError):
    """Input was rejected; ``field`` names the offending field when there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class QueryError(ValidationError):
    """A filter query could not be understood; ``position`` is the 0-based character offset."""

    def __init__(self, message: str, position: int):
        super().__init__(message, field="query")
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return f"{self.message} (at column {self.position + 1})"


class PermissionDenied(ItsmError):
    """The acting user's role or ownership does not allow the action."""


class NotFound(ItsmError):
    """The record does not exist, or is not visible to the acting user."""


class ConflictError(ItsmError):
    """Someone else changed the record since it was read (optimistic locking)."""

    def __init__(self, message: str, changes: list | None = None):
        super().__init__(message)
        self.changes = changes or []


class AuthError(ItsmError):
    """Login failed. The message is deliberately the same for every cause but lockout."""


class SchemaError(ItsmError):
    """The database is missing, too old or too new for this version of itsm-tui."""
