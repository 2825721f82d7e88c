"""Words for what the log records: field names and action codes, for every reader (the log
screen and its exports, a ticket's history, the ticket report) and for summaries written."""

from __future__ import annotations

# Words for the field names the log records (a field not listed reads as its name with spaces).
FIELD_LABELS = {
    "asset_tag": "asset tag",
    "assigned_user": "assigned user",
    "assignment_group": "assignment group",
    "auto_assign": "automatic assignment",
    "cidr": "network range (CIDR)",
    "closed_at": "closed at",
    "configuration_item": "configuration item",
    "contact_type": "contact type",
    "created_at": "created at",
    "entity_version": "version",
    "failed_logins": "failed logins",
    "first_response_at": "first response at",
    "full_name": "full name",
    "ip": "IP address",
    "is_active": "active",
    "is_away": "away",
    "is_internal": "internal",
    "last_login_at": "last login",
    "locked_until": "locked until",
    "mac": "MAC address",
    "model_name": "model",
    "opened_by": "opened by",
    "os": "operating system",
    "password_hash": "password",
    "priority_overridden": "priority set by hand",
    "purchase_date": "purchase date",
    "reassignment_count": "reassignments",
    "reopen_count": "times reopened",
    "reorder_level": "reorder level",
    "resolution_due": "resolution due",
    "resolution_met": "resolution target met",
    "resolution_minutes": "resolution target (minutes)",
    "resolution_note": "resolution note",
    "resolution_risk_at": "resolution at risk from",
    "resolved_at": "resolved at",
    "resolved_by": "resolved by",
    "response_due": "response due",
    "response_met": "response target met",
    "response_minutes": "response target (minutes)",
    "response_risk_at": "response at risk from",
    "sla_paused_at": "SLA paused at",
    "sla_paused_seconds": "SLA paused (seconds)",
    "source_mod_count": "source changes",
    "source_number": "source number",
    "unit_price": "unit price",
    "updated_at": "updated at",
    "vlan": "VLAN",
    "warranty_end": "warranty end",
}
# Words for the action codes (an action not listed reads as its code with spaces, capitalised).
ACTION_LABELS = {
    "create": "Created",
    "update": "Updated",
    "delete": "Deleted",
    "assign": "Assigned",
    "attach": "File attached",
    "comment": "Commented",
    "note": "Internal note",
    "login": "Logged in",
    "login_failed": "Login failed",
    "unlock": "Unlocked",
    "password_reset": "Password reset",
    "stock_adjust": "Stock adjusted",
    "peripheral_attached": "Peripheral attached",
    "peripheral_detached": "Peripheral detached",
    "ticket_linked": "Ticket linked",
    "ticket_unlinked": "Ticket unlinked",
    "link": "Tickets linked",
    "unlink": "Tickets unlinked",
    "merge": "Merged",
    "tag": "Tags changed",
    "sla_alert": "SLA alert",
    "sla_recompute": "SLA recomputed",
    "seed": "Demo data",
    "read_notifications": "Notifications read",
    "export": "Exported",
    "import": "Imported",
    "import_failed": "Import failed",
}


def field_label(field: str) -> str:
    return FIELD_LABELS.get(field) or field.replace("_", " ")


def action_label(action: str | None) -> str:
    if not action:
        return ""
    return ACTION_LABELS.get(action) or action.replace("_", " ").capitalize()


def counted(count: int, noun: str) -> str:
    """'1 ticket', '179 tickets', '2 log entries'."""
    if count == 1:
        return f"1 {noun}"
    plural = noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"
    return f"{count:,} {plural}"
