"""Peewee models: the schema of every table, shared by SQLite and MySQL.

Times are naive UTC. Records that operators edit carry a ``version`` for optimistic locking.
"""

from __future__ import annotations

from datetime import datetime

from peewee import (
    BigIntegerField,
    BlobField,
    BooleanField,
    CharField,
    Check,
    DatabaseProxy,
    DateField,
    DecimalField,
    ForeignKeyField,
    IntegerField,
    Model,
    SmallIntegerField,
    TextField,
)
from peewee import DateTimeField as _PeeweeDateTimeField

database = DatabaseProxy()  # bound to SQLite or MySQL by db.bind

ROLES = ("requester", "agent", "supervisor", "admin")
STATUSES = ("new", "in_progress", "waiting_on_user", "waiting_on_vendor", "resolved", "closed")
OPEN_STATUSES = STATUSES[:4]
PRIORITY_NAMES = {1: "Critical", 2: "High", 3: "Medium", 4: "Low"}
LEVEL_NAMES = {1: "High", 2: "Medium", 3: "Low"}  # impact and urgency
SYSTEM_TYPES = ("desktop", "laptop", "server", "virtual machine", "other")
ASSET_STATUSES = ("in use", "in stock", "in repair", "retired")
PERIPHERAL_KINDS = (
    "printer",
    "scanner",
    "router",
    "switch",
    "access point",
    "firewall",
    "monitor",
    "docking station",
    "phone",
    "ups",
    "other",
)


def _in(column: str, values) -> Check:
    listed = ", ".join(f"'{v}'" for v in values)
    return Check(f"{column} IN ({listed})")


class DateTimeField(_PeeweeDateTimeField):
    """Naive UTC times. SQLite returns them as text; ``fromisoformat`` reads that about ten
    times faster than peewee's list of strptime formats, which shows on every page of rows."""

    def python_value(self, value):
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                pass
        return super().python_value(value)


class LongTextField(TextField):
    """Text of up to 20,000 characters in any script, or JSON that holds such text: MySQL's
    TEXT holds 65,535 bytes, which 20,000 characters of four bytes overflow (v19; SQLite
    accepts the name)."""

    field_type = "MEDIUMTEXT"


class LongBlobField(BlobField):
    """MySQL's BLOB holds only 64 KiB; attachments need LONGBLOB (SQLite accepts the name)."""

    field_type = "LONGBLOB"


SORT_KEY_LENGTH = 255


class SortKeyField(CharField):
    """The natural sort key of the column ``source`` (core/natural.py), written with it."""

    def __init__(self, source: str, **kwargs):
        super().__init__(max_length=SORT_KEY_LENGTH, default="", **kwargs)
        self.source = source


def _sorted_by(*keys: str) -> tuple:
    """Indexes on (sort key, id): keyset pages walk them (MariaDB sorts the whole table for
    (key, id) with an index on the key alone)."""
    return tuple(((key, "id"), False) for key in keys)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class SchemaMeta(BaseModel):
    key = CharField(max_length=64, primary_key=True)
    value = CharField(max_length=255)


class Department(BaseModel):
    name = CharField(max_length=100, unique=True)
    created_at = DateTimeField()
    updated_at = DateTimeField()
    version = IntegerField(default=1)
    name_key = SortKeyField("name")  # v8

    class Meta:
        indexes = _sorted_by("name_key")


class Network(BaseModel):
    name = CharField(max_length=100, unique=True)
    cidr = CharField(max_length=43)
    vlan = IntegerField(null=True, constraints=[Check("vlan BETWEEN 1 AND 4094")])
    location = CharField(max_length=100, null=True)
    created_at = DateTimeField()
    updated_at = DateTimeField()
    version = IntegerField(default=1)
    name_key = SortKeyField("name")  # v8

    class Meta:
        indexes = _sorted_by("name_key")


class User(BaseModel):
    username = CharField(max_length=64, unique=True)
    full_name = CharField(max_length=100)
    email = CharField(max_length=254, null=True)
    department = ForeignKeyField(Department, null=True, on_delete="SET NULL", backref="users")
    role = CharField(max_length=16, constraints=[_in("role", ROLES)])
    is_active = BooleanField(default=True)
    password_hash = CharField(max_length=60, null=True)  # None: cannot log in (imported, system)
    # Failed logins from all sources since ``failed_since`` (v5), and the lock they set for
    # every source; each source's own count and lock are in ``login_throttle``.
    failed_logins = IntegerField(default=0)
    locked_until = DateTimeField(null=True)
    last_login_at = DateTimeField(null=True)
    is_away = BooleanField(default=False)  # v3: skipped by automatic assignment
    created_at = DateTimeField()
    updated_at = DateTimeField()
    version = IntegerField(default=1)
    failed_since = DateTimeField(null=True)  # v5: the first of the counted failed logins
    username_key = SortKeyField("username")  # v8

    class Meta:
        indexes = ((("role", "is_active"), False),) + _sorted_by("username_key")


AUTO_ASSIGN_MODES = ("round_robin", "least_loaded")


class Category(BaseModel):
    name = CharField(max_length=50, unique=True)
    is_active = BooleanField(default=True)
    # v3: automatic assignment of new tickets among the category's agents (None: off)
    auto_assign = CharField(
        max_length=16,
        null=True,
        constraints=[Check("auto_assign IS NULL OR auto_assign IN ('round_robin', 'least_loaded')")],
    )
    last_assignee = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")


class System(BaseModel):
    hostname = CharField(max_length=253, unique=True)
    asset_tag = CharField(max_length=32, unique=True)
    type = CharField(max_length=20, constraints=[_in("type", SYSTEM_TYPES)])
    manufacturer = CharField(max_length=64, null=True)
    model_name = CharField(max_length=64, null=True)
    serial = CharField(max_length=64, null=True)
    os = CharField(max_length=64, null=True)
    ip = CharField(max_length=45, null=True, index=True)
    mac = CharField(max_length=17, null=True)
    department = ForeignKeyField(Department, null=True, on_delete="SET NULL", backref="systems")
    network = ForeignKeyField(Network, null=True, on_delete="SET NULL", backref="systems")
    assigned_user = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="systems")
    status = CharField(max_length=16, constraints=[_in("status", ASSET_STATUSES)])
    purchase_date = DateField(null=True)
    warranty_end = DateField(null=True)
    notes = LongTextField(null=True)
    created_at = DateTimeField()
    updated_at = DateTimeField()
    version = IntegerField(default=1)
    hostname_key = SortKeyField("hostname")  # v8
    asset_tag_key = SortKeyField("asset_tag")  # v8

    class Meta:
        indexes = _sorted_by("hostname_key", "asset_tag_key")


class Peripheral(BaseModel):
    name = CharField(max_length=100)
    kind = CharField(max_length=20, constraints=[_in("kind", PERIPHERAL_KINDS)])
    asset_tag = CharField(max_length=32, unique=True)
    serial = CharField(max_length=64, null=True)
    system = ForeignKeyField(System, null=True, on_delete="SET NULL", backref="peripherals")
    department = ForeignKeyField(Department, null=True, on_delete="SET NULL")
    network = ForeignKeyField(Network, null=True, on_delete="SET NULL")
    status = CharField(max_length=16, constraints=[_in("status", ASSET_STATUSES)])
    created_at = DateTimeField()
    updated_at = DateTimeField()
    version = IntegerField(default=1)
    name_key = SortKeyField("name")  # v8
    asset_tag_key = SortKeyField("asset_tag")  # v8

    class Meta:
        indexes = _sorted_by("name_key", "asset_tag_key")


class StockItem(BaseModel):
    name = CharField(max_length=100, unique=True)
    description = LongTextField(null=True)
    quantity = IntegerField(default=0, constraints=[Check("quantity >= 0")])
    unit_price = DecimalField(max_digits=12, decimal_places=2, constraints=[Check("unit_price >= 0")])
    reorder_level = IntegerField(default=0, constraints=[Check("reorder_level >= 0")])
    created_at = DateTimeField()
    updated_at = DateTimeField()
    version = IntegerField(default=1)
    name_key = SortKeyField("name")  # v8

    class Meta:
        indexes = _sorted_by("name_key")


# Issue 21 (teams and macros), schema v12: teams with members, each ticket's team, canned replies.


class Team(BaseModel):
    """A group of agents that a ticket may belong to; its queue is ``team:NAME``."""

    name = CharField(max_length=100, unique=True)  # as long as an imported assignment group
    # automatic assignment of new tickets of the team among its members (None: off)
    auto_assign = CharField(
        max_length=16,
        null=True,
        constraints=[Check("auto_assign IS NULL OR auto_assign IN ('round_robin', 'least_loaded')")],
    )
    last_assignee = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = DateTimeField()
    updated_at = DateTimeField()
    version = IntegerField(default=1)


class TeamMember(BaseModel):
    team = ForeignKeyField(Team, on_delete="CASCADE", backref="members")
    user = ForeignKeyField(User, on_delete="CASCADE", backref="+")

    class Meta:
        table_name = "team_member"
        indexes = ((("team", "user"), True),)


class Macro(BaseModel):
    """A named canned reply with placeholders, and the fields it sets (None: left as is).
    ``team`` None: offered to everyone; else to that team's members (and supervisors, admins)."""

    name = CharField(max_length=60, unique=True)
    team = ForeignKeyField(Team, null=True, on_delete="CASCADE", backref="macros")
    body = LongTextField()  # may be empty: a macro that only sets fields
    internal = BooleanField(default=False)  # the reply is an internal note
    set_status = CharField(max_length=20, null=True)
    set_priority = SmallIntegerField(null=True)
    set_team = ForeignKeyField(Team, null=True, on_delete="SET NULL", backref="+")
    set_assignee = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    assign_to_me = BooleanField(default=False)  # assign to whoever applies it ("me")
    created_at = DateTimeField()
    updated_at = DateTimeField()
    version = IntegerField(default=1)


class Ticket(BaseModel):
    title = CharField(max_length=200)
    description = LongTextField()
    category = ForeignKeyField(Category, on_delete="RESTRICT")
    impact = SmallIntegerField(constraints=[Check("impact BETWEEN 1 AND 3")])
    urgency = SmallIntegerField(constraints=[Check("urgency BETWEEN 1 AND 3")])
    priority = SmallIntegerField(constraints=[Check("priority BETWEEN 1 AND 4")])
    priority_overridden = BooleanField(default=False)
    status = CharField(max_length=20, constraints=[_in("status", STATUSES)])
    requester = ForeignKeyField(User, on_delete="RESTRICT", backref="requested_tickets")
    assignee = ForeignKeyField(User, null=True, on_delete="RESTRICT", backref="assigned_tickets")
    system = ForeignKeyField(System, null=True, on_delete="SET NULL", backref="tickets")
    peripheral = ForeignKeyField(Peripheral, null=True, on_delete="SET NULL", backref="tickets")
    created_at = DateTimeField(index=True)
    updated_at = DateTimeField()  # indexed with the id and status (Meta)
    first_response_at = DateTimeField(null=True)
    resolved_at = DateTimeField(null=True)
    closed_at = DateTimeField(null=True)
    response_due = DateTimeField()
    resolution_due = DateTimeField(index=True)
    resolution_note = LongTextField(null=True)
    reopen_count = IntegerField(default=0)
    reassignment_count = IntegerField(default=0)
    source_number = CharField(max_length=40, null=True, index=True)  # e.g. an imported INC number
    # v3, SLA: the moments when less than 25% of each target is left (working time), so the
    # SLA state of every open ticket is a comparison in SQL; the pause; the frozen outcome.
    response_risk_at = DateTimeField(null=True)
    resolution_risk_at = DateTimeField(null=True)
    sla_paused_at = DateTimeField(null=True)  # the SLA clock stopped (waiting, or resolved)
    sla_paused_seconds = IntegerField(null=True, default=0)  # working time paused so far (NULL: none)
    response_met = BooleanField(null=True)
    resolution_met = BooleanField(null=True)
    # v3, imported or integrated tickets
    subcategory = CharField(max_length=100, null=True)
    assignment_group = CharField(max_length=100, null=True)
    contact_type = CharField(max_length=30, null=True)
    configuration_item = CharField(max_length=100, null=True)
    opened_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    resolved_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    source_mod_count = IntegerField(null=True)  # the source's change counter last imported
    version = IntegerField(default=1)
    team = ForeignKeyField(Team, null=True, on_delete="SET NULL", backref="tickets")  # v12, issue 21

    class Meta:
        # Serve the queue's filters with their common sort orders; secondary indexes end in the
        # primary key on both engines, so (filter, sort key, id) keyset scans stay index-only.
        indexes = (
            (("status", "updated_at"), False),
            (("status", "priority"), False),
            (("assignee", "status", "updated_at"), False),
            (("requester", "status", "updated_at"), False),
            (("category", "status", "updated_at"), False),  # v13: was (category, status)
            (("priority", "id"), False),
            (("status", "resolution_due"), False),
            # v3: every column of the SLA and age figures, so the monitor's one grouped scan of
            # the open tickets reads this index alone (analytics._open_groups).
            (
                (
                    "status",
                    "assignee",
                    "priority",
                    "category",
                    "created_at",
                    "first_response_at",
                    "response_due",
                    "response_risk_at",
                    "resolution_due",
                    "resolution_risk_at",
                    "sla_paused_at",
                ),
                False,
            ),
            # v4: every column of the figures over tickets resolved in a period (compliance,
            # median time to resolve, resolved per day), read from this index alone: at 1M
            # tickets MariaDB spent seconds fetching each resolved row from the table.
            (("resolved_at", "assignee", "created_at", "response_met", "resolution_met"), False),
            # v7: the history figures over tickets closed in a period (by priority, category,
            # status, assignee; outcomes and those without a resolve time) and the trend's
            # backlog (no close time, no resolve time, open status), read from this index alone.
            (
                ("closed_at", "resolved_at", "status", "priority", "category", "assignee", "resolution_met"),
                False,
            ),
            # v4: the SLA alerts' look-back (alerts._crossed), a short range of each moment:
            # without them MariaDB read every open ticket, 9 s each at 1M tickets. Not led by
            # status: SQLite then took one of them over the covering index above.
            (("response_due",), False),
            (("response_risk_at",), False),
            (("resolution_risk_at",), False),
            # v13 (issue 22): the filter combinations a desk uses, each in its usual sort order,
            # so a page is a walk of one index (MariaDB merged two and sorted ~150,000 rows).
            # v15: the id, then the status after the sort key (the id keeps (key, id) the index's
            # order), so the walk checks ``status:open`` in the index instead of reading each
            # row (SQLite at 1M: 1.1 ms for two priorities' walks, 0.17 ms with it).
            (("category", "priority", "updated_at", "id", "status"), False),
            (("priority", "status", "updated_at"), False),
            (("updated_at", "id", "status"), False),  # v15: was updated_at alone
            (("assignee", "status", "resolution_due"), False),
        )

    @property
    def number(self) -> str:
        return ticket_number(self.id)


def ticket_number(ticket_id: int) -> str:
    return f"INC{ticket_id:06d}"


class Comment(BaseModel):
    ticket = ForeignKeyField(Ticket, on_delete="CASCADE", backref="comments")
    author = ForeignKeyField(User, on_delete="RESTRICT")
    body = LongTextField()
    is_internal = BooleanField(default=False)
    created_at = DateTimeField()

    class Meta:
        indexes = ((("ticket", "created_at"), False),)


class AttachmentBlob(BaseModel):
    """Attachment content, stored once per distinct SHA-256 (content addressed)."""

    sha256 = CharField(max_length=64, primary_key=True)
    content = LongBlobField()


class Attachment(BaseModel):
    ticket = ForeignKeyField(Ticket, on_delete="CASCADE", backref="attachments")
    uploaded_by = ForeignKeyField(User, on_delete="RESTRICT")
    filename = CharField(max_length=255)
    size = BigIntegerField()
    blob = ForeignKeyField(AttachmentBlob, on_delete="RESTRICT")
    created_at = DateTimeField()


class AuditEntry(BaseModel):
    """Append-only: written only by ``audit.record`` inside the service's own transaction."""

    at = DateTimeField(index=True)
    actor = ForeignKeyField(User, null=True, on_delete="RESTRICT")  # None: unknown login name
    action = CharField(max_length=32)
    entity_type = CharField(max_length=32)
    entity_id = IntegerField(null=True)
    entity_version = IntegerField(null=True)  # the version the change produced
    summary = CharField(max_length=500)
    changes = LongTextField(null=True)  # JSON {field: [before, after]}
    # v5: who really acted when ``actor`` was impersonated (the CLI's --as), and the channel
    # the change came through (tui, cli, import, api, mail; None before v5)
    real_actor = ForeignKeyField(User, null=True, on_delete="RESTRICT", backref="+")
    channel = CharField(max_length=16, null=True)
    token_name = CharField(max_length=60, null=True)  # v9: the API token a write came through

    class Meta:
        table_name = "audit_log"
        indexes = (
            (("entity_type", "entity_id", "at"), False),
            (("actor", "at"), False),
            (("action", "at"), False),
            # v4: a type with an action ("type:system action:update"), the log's common pair,
            # is a range of this index: counted and paged without reading the entries.
            (("entity_type", "action", "at"), False),
        )


class Notification(BaseModel):
    user = ForeignKeyField(User, on_delete="CASCADE", backref="notifications")
    ticket = ForeignKeyField(Ticket, null=True, on_delete="CASCADE")
    kind = CharField(max_length=32)
    message = CharField(max_length=500)
    created_at = DateTimeField()
    read_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("user", "read_at", "created_at"), False),)


class SavedView(BaseModel):
    """A named ticket filter (query language text and sort) kept by one user (schema v2)."""

    user = ForeignKeyField(User, on_delete="CASCADE", backref="saved_views")
    name = CharField(max_length=60)
    query = TextField()
    sort = CharField(max_length=30)
    created_at = DateTimeField()

    class Meta:
        indexes = ((("user", "name"), True),)


class UserPreference(BaseModel):
    """One small per-user setting, such as the last ticket view used (schema v2)."""

    user = ForeignKeyField(User, on_delete="CASCADE", backref="preferences")
    key = CharField(max_length=40)
    value = CharField(max_length=500)

    class Meta:
        indexes = ((("user", "key"), True),)


class Setting(BaseModel):
    """A desk-wide setting as JSON (business calendar, automatic assignment switch) (v3)."""

    key = CharField(max_length=64, primary_key=True)
    value = TextField()
    updated_at = DateTimeField()
    version = IntegerField(default=1)


class SlaPolicy(BaseModel):
    """Targets per priority in working minutes (v3)."""

    priority = SmallIntegerField(unique=True, constraints=[Check("priority BETWEEN 1 AND 4")])
    response_minutes = IntegerField(constraints=[Check("response_minutes > 0")])
    resolution_minutes = IntegerField(constraints=[Check("resolution_minutes > 0")])
    updated_at = DateTimeField()
    version = IntegerField(default=1)


class SlaAlert(BaseModel):
    """An SLA notification already raised: once per ticket, target and state (v3)."""

    ticket = ForeignKeyField(Ticket, on_delete="CASCADE")
    target = CharField(max_length=12, constraints=[_in("target", ("response", "resolution"))])
    state = CharField(max_length=12, constraints=[_in("state", ("at_risk", "breached"))])
    created_at = DateTimeField()

    class Meta:
        indexes = ((("ticket", "target", "state"), True),)


class CategoryAgent(BaseModel):
    """The agents who take a category's tickets under automatic assignment (v3)."""

    category = ForeignKeyField(Category, on_delete="CASCADE", backref="agents")
    agent = ForeignKeyField(User, on_delete="CASCADE")

    class Meta:
        indexes = ((("category", "agent"), True),)


class EmailMessage(BaseModel):
    """Outgoing e-mail for a notification, sent off the UI thread with retries (v3)."""

    notification = ForeignKeyField(Notification, null=True, on_delete="SET NULL")
    to_address = CharField(max_length=254)
    subject = CharField(max_length=200)
    body = LongTextField()
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(index=True)
    sent_at = DateTimeField(null=True)
    last_error = CharField(max_length=500, null=True)
    created_at = DateTimeField()
    headers = TextField(null=True)  # v10: JSON of the thread's headers (Message-ID, Cc, Reply-To...)


# Creation order: every table after the tables it references.
class LoginThrottle(BaseModel):
    """Failed logins to one account from one source (an SSH client's address, or "local"),
    counted since ``failed_since``, and the lock they set for that source only (v5)."""

    user = ForeignKeyField(User, on_delete="CASCADE", index=False)  # the unique index serves
    source = CharField(max_length=64)
    failures = IntegerField(default=0)
    failed_since = DateTimeField(null=True)
    locked_until = DateTimeField(null=True)

    class Meta:
        table_name = "login_throttle"
        indexes = ((("user", "source"), True),)


class RequestKey(BaseModel):
    """A user action already written, by the key its form made when it opened (v6): a save
    retried after an unknown outcome (a lost connection, a failover) finds it instead of
    writing a second time."""

    key = CharField(max_length=36, primary_key=True)
    user = ForeignKeyField(User, on_delete="CASCADE")
    action = CharField(max_length=40)
    entity_type = CharField(max_length=20, null=True)
    entity_id = IntegerField(null=True)
    created_at = DateTimeField(index=True)

    class Meta:
        table_name = "request_key"


# --- issue 19, the HTTP API (schema v9): personal API tokens, monitoring alerts, webhooks out.


class ApiToken(BaseModel):
    """A personal API token: only its SHA-256 is kept (the token is random, 190 bits), with the
    prefix shown in lists to tell tokens apart."""

    user = ForeignKeyField(User, on_delete="CASCADE", backref="api_tokens")
    name = CharField(max_length=60)
    prefix = CharField(max_length=16, unique=True)
    token_hash = CharField(max_length=64)
    read_only = BooleanField(default=False)
    created_at = DateTimeField()
    expires_at = DateTimeField(null=True)
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)

    class Meta:
        table_name = "api_token"
        indexes = ((("user", "name"), False),)


class AlertTicket(BaseModel):
    """The ticket a monitoring alert opened, one row per source and dedupe key (Alertmanager's
    fingerprint): repeats count here instead of adding a comment each; a new occurrence after the
    ticket was finished points the row at a new ticket."""

    source = CharField(max_length=60)
    dedupe_key = CharField(max_length=200)
    ticket = ForeignKeyField(Ticket, on_delete="CASCADE")
    state = CharField(max_length=10, constraints=[_in("state", ("firing", "resolved"))])
    started_at = DateTimeField(null=True)  # when the source says this occurrence began
    repeats = IntegerField(default=0)
    first_seen_at = DateTimeField()
    last_seen_at = DateTimeField()
    resolved_at = DateTimeField(null=True)

    class Meta:
        table_name = "alert_ticket"
        indexes = ((("source", "dedupe_key"), True),)


class WebhookSubscription(BaseModel):
    """A URL an admin subscribed to ticket events; deliveries are signed with ``secret``."""

    url = CharField(max_length=500)
    events = CharField(max_length=300)  # comma-separated event names (core/notify/webhooks.py)
    secret = CharField(max_length=64)
    allow_private = BooleanField(default=False)
    is_active = BooleanField(default=True)
    paused_at = DateTimeField(null=True)
    failing_since = DateTimeField(null=True)
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = DateTimeField()
    updated_at = DateTimeField()
    version = IntegerField(default=1)

    class Meta:
        table_name = "webhook_subscription"


class WebhookDelivery(BaseModel):
    """One event for one subscription: the outbox row and, once tried, its delivery log."""

    subscription = ForeignKeyField(WebhookSubscription, on_delete="CASCADE", backref="deliveries")
    event = CharField(max_length=40)
    payload = LongTextField()
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(index=True)
    delivered_at = DateTimeField(null=True)
    last_status = IntegerField(null=True)
    last_error = CharField(max_length=500, null=True)
    created_at = DateTimeField()

    class Meta:
        table_name = "webhook_delivery"
        indexes = ((("subscription", "created_at"), False),)


# --- issue 20, the e-mail channel (schema v10).
class MailMessage(BaseModel):
    """A Message-ID the desk received or sent: an incoming message is processed once, and a
    reply finds its ticket by the IDs it quotes (v10). An incoming message also leaves a row of
    its content key (outcome "content-key", see core/mail/intake.py), so another message that
    reuses its Message-ID is told apart from a redelivery."""

    message_id = CharField(max_length=255, unique=True)
    direction = CharField(max_length=3, constraints=[_in("direction", ("in", "out"))])
    ticket = ForeignKeyField(Ticket, null=True, on_delete="CASCADE")
    sender = CharField(max_length=254, null=True)
    # ticket, comment, auto-reply, bounce, refused, limited, sent, content-key
    outcome = CharField(max_length=20)
    created_at = DateTimeField()

    class Meta:
        table_name = "mail_message"
        indexes = ((("sender", "outcome", "created_at"), False), (("ticket", "id"), False))


class TicketCc(BaseModel):
    """An address copied on a ticket's mail thread: it may reply, and is mailed the answers (v10)."""

    ticket = ForeignKeyField(Ticket, on_delete="CASCADE", index=False)  # the unique index serves
    address = CharField(max_length=254)

    class Meta:
        table_name = "ticket_cc"
        indexes = ((("ticket", "address"), True),)


class SignupCode(BaseModel):
    """A one-time code mailed for self-service sign-up: its hash, expiring, single use (v10)."""

    email = CharField(max_length=254)
    code_hash = CharField(max_length=64)
    attempts = IntegerField(default=0)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)
    created_at = DateTimeField()

    class Meta:
        table_name = "signup_code"
        indexes = ((("email", "created_at"), False),)


# --- issue 21 (schema v11): links between tickets (merges too) and free tags on tickets.
# A link reads from ``source``: source is a parent of / a duplicate of / caused by / merged into target.
LINK_KINDS = ("related", "parent", "duplicate", "caused_by", "merged")


class TicketLink(BaseModel):
    source = ForeignKeyField(Ticket, on_delete="CASCADE", backref="+", index=False)  # the unique index serves
    target = ForeignKeyField(Ticket, on_delete="CASCADE", backref="+")
    kind = CharField(max_length=20, constraints=[_in("kind", LINK_KINDS)])
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = DateTimeField()

    class Meta:
        table_name = "ticket_link"
        indexes = ((("source", "target", "kind"), True),)


class TicketTag(BaseModel):
    ticket = ForeignKeyField(Ticket, on_delete="CASCADE", backref="+", index=False)  # the unique index serves
    tag = CharField(max_length=40)

    class Meta:
        table_name = "ticket_tag"
        indexes = ((("ticket", "tag"), True), (("tag", "ticket"), False))


ALL_MODELS = (
    SchemaMeta,
    Department,
    Network,
    User,
    Category,
    System,
    Peripheral,
    StockItem,
    Team,  # v12, issue 21
    TeamMember,
    Macro,
    Ticket,
    Comment,
    AttachmentBlob,
    Attachment,
    AuditEntry,
    Notification,
    SavedView,
    UserPreference,
    Setting,
    SlaPolicy,
    SlaAlert,
    CategoryAgent,
    EmailMessage,
    LoginThrottle,
    RequestKey,
    ApiToken,
    AlertTicket,
    WebhookSubscription,
    WebhookDelivery,
    MailMessage,
    TicketCc,
    SignupCode,
    TicketLink,
    TicketTag,
)
