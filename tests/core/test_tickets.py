"""Ticket lifecycle, locking, audit, text safety and attachments, on both engines."""

import threading
from datetime import timedelta

import pytest

from itsm_tui.core import clock, config
from itsm_tui.core.errors import ConflictError, PermissionDenied, ValidationError
from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.store import audit, db
from itsm_tui.core.store.models import (
    Attachment,
    AttachmentBlob,
    AuditEntry,
    Comment,
    Notification,
    Ticket,
)
from itsm_tui.core.tickets import service as tickets
from itsm_tui.core.tickets.rules import STATUS_LABELS, choosable


@pytest.fixture
def ticket(people):
    return tickets.create(
        people["requester"],
        "VPN down",
        "Cannot connect from home",
        category="network",
        impact="high",
        urgency="medium",
    )


def test_create_sets_priority_from_matrix_and_due_times(ticket):
    assert ticket.number == f"INC{ticket.id:06d}"
    assert (ticket.status, ticket.impact, ticket.urgency, ticket.priority) == ("new", 1, 2, 2)
    assert ticket.category.name == "Network"
    assert ticket.response_due == ticket.created_at + timedelta(hours=1)
    assert ticket.resolution_due == ticket.created_at + timedelta(hours=8)


@pytest.mark.parametrize(
    "impact,urgency,priority",
    [
        (1, 1, 1),
        (1, 3, 3),
        (2, 2, 3),
        (3, 1, 3),
        (2, 3, 4),
        (3, 3, 4),
        (2, 1, 2),
    ],
)
def test_priority_matrix(people, impact, urgency, priority):
    t = tickets.create(people["agent"], "t", "d", impact=impact, urgency=urgency)
    assert t.priority == priority


def test_priority_override_is_recorded_and_moves_due_times(ticket, people):
    agent = people["agent"]
    t = tickets.update(agent, ticket.id, ticket.version, priority="critical")
    assert (t.priority, t.priority_overridden) == (1, True)
    assert t.resolution_due == t.created_at + timedelta(hours=4)
    entry = AuditEntry.select().where(AuditEntry.entity_version == t.version).get()
    assert audit.changes_of(entry)["priority"] == [2, 1]
    assert audit.changes_of(entry)["priority_overridden"] == [False, True]
    t = tickets.update(agent, t.id, t.version, title="VPN down for everyone")
    assert t.priority == 1  # an unrelated edit keeps the override
    t = tickets.update(agent, t.id, t.version, urgency="low")
    assert (t.priority, t.priority_overridden) == (3, False)  # impact/urgency edit re-applies the matrix


def test_full_lifecycle_with_timestamps(ticket, people):
    agent = people["agent"]
    t = tickets.change_status(agent, ticket.id, ticket.version, "in_progress")
    assert t.first_response_at is not None
    t = tickets.change_status(agent, t.id, t.version, "waiting_on_vendor")
    t = tickets.change_status(agent, t.id, t.version, "in_progress")
    with pytest.raises(ValidationError, match="resolution note is required"):
        tickets.change_status(agent, t.id, t.version, "resolved")
    t = tickets.change_status(agent, t.id, t.version, "resolved", "Router rebooted")
    assert t.resolved_at is not None and t.resolution_note == "Router rebooted"
    t = tickets.change_status(agent, t.id, t.version, "closed")
    assert t.closed_at is not None
    t = tickets.change_status(people["requester"], t.id, t.version, "in_progress", "Broken again")
    assert (t.status, t.reopen_count, t.resolved_at, t.closed_at) == ("in_progress", 1, None, None)
    assert Comment.select().where(Comment.body == "Broken again").exists()


@pytest.mark.parametrize(
    "start_path,target",
    [
        ([], "closed"),
        ([], "new"),
        (["in_progress"], "new"),
        (["in_progress", "resolved"], "waiting_on_user"),
        (["in_progress", "resolved", "closed"], "resolved"),
    ],
)
def test_illegal_transitions_are_refused_and_change_nothing(ticket, people, start_path, target):
    agent = people["agent"]
    t = ticket
    for step in start_path:
        t = tickets.change_status(agent, t.id, t.version, step, "note")
    entries = AuditEntry.select().count()
    with pytest.raises(ValidationError, match="cannot go from"):
        tickets.change_status(agent, t.id, t.version, target, "note")
    assert Ticket.get_by_id(t.id).status == t.status
    assert AuditEntry.select().count() == entries


def test_requester_may_only_reopen_or_close_own_resolved(ticket, people):
    requester = people["requester"]
    with pytest.raises(PermissionDenied):
        tickets.change_status(requester, ticket.id, ticket.version, "in_progress")
    t = tickets.change_status(people["agent"], ticket.id, ticket.version, "resolved", "done")
    t = tickets.change_status(requester, t.id, t.version, "closed")
    assert t.status == "closed"


def test_the_statuses_an_actor_may_choose_are_the_ones_the_service_accepts(ticket, people):
    """One rule for the status picker and the service: every status ``choosable`` offers is
    accepted, every other one refused."""
    for who, start in (
        ("requester", "resolved"),
        ("requester", "new"),
        ("agent", "new"),
        ("agent", "resolved"),
        ("requester", "closed"),
    ):
        offered = choosable(people[who].role, [start])
        for status in STATUS_LABELS:
            row = Ticket.get_by_id(ticket.id)
            Ticket.update(status=start).where(Ticket.id == ticket.id).execute()
            try:
                tickets.change_status(people[who], ticket.id, row.version, status, "a note")
                accepted = True
            except (PermissionDenied, ValidationError):
                accepted = False
            assert accepted == (status in offered), (who, start, status)
    assert choosable("requester", ["resolved"]) == ["in_progress", "closed"]
    assert choosable("agent", ["new", "resolved"]) == [
        "in_progress",
        "waiting_on_user",
        "waiting_on_vendor",
        "resolved",
        "closed",
    ]


def test_stale_version_from_another_connection_is_a_named_conflict(ticket, people):
    """Two operators read version 1; the second save is refused and told who changed what."""
    read_by_second = Ticket.get_by_id(ticket.id)
    errors = []

    def first_operator():
        try:
            with db.database.connection_context():
                tickets.assign(people["supervisor"], ticket.id, ticket.version, "agent2")
        except Exception as exc:  # pragma: no cover - surfaced below
            errors.append(exc)

    worker = threading.Thread(target=first_operator)
    worker.start()
    worker.join()
    assert not errors
    with pytest.raises(ConflictError) as caught:
        tickets.update(people["agent"], ticket.id, read_by_second.version, title="Overwritten?")
    message = str(caught.value)
    assert "supervisor changed assignee" in message and "Reload" in message
    fresh = Ticket.get_by_id(ticket.id)
    assert fresh.title == "VPN down" and fresh.assignee.username == "agent2" and fresh.version == 2


def test_a_stale_status_change_is_a_conflict_naming_who_moved_it(ticket, people):
    """Agent 1 read a New ticket; agent 2 moved it to In progress; agent 1's own move to In
    progress is a conflict that names agent 2, not 'cannot go from In progress to In progress'."""
    tickets.change_status(people["agent2"], ticket.id, ticket.version, "in_progress")
    with pytest.raises(ConflictError) as caught:
        tickets.change_status(people["agent"], ticket.id, ticket.version, "in_progress")
    assert "agent2 changed" in str(caught.value) and "status" in str(caught.value)


def test_a_conflict_inside_a_running_transaction_still_names_the_winner(ticket, people, engine):
    """The loser's transaction had read before the winner committed (InnoDB's snapshot);
    the conflict must still say who changed what, not only 'changed by someone else'."""
    if engine.startswith("sqlite"):
        pytest.skip("SQLite runs one writer at a time: the loser always starts after the winner")
    winner_done = threading.Event()

    def winner():
        with db.database.connection_context():
            tickets.update(people["agent2"], ticket.id, ticket.version, title="Won the race")
        winner_done.set()

    with pytest.raises(ConflictError) as caught:
        with db.database.atomic():
            Ticket.get_by_id(ticket.id)  # the snapshot starts here
            thread = threading.Thread(target=winner)
            thread.start()
            thread.join()
            assert winner_done.is_set()
            tickets.records.update(
                people["agent"], ticket, ticket.version, {"title": "Lost"}, "ticket", ticket.number
            )
    assert "agent2 changed title" in str(caught.value)


def test_concurrent_saves_of_the_same_version_let_exactly_one_win(ticket, people):
    barrier = threading.Barrier(2)
    outcomes = []

    def save(actor, title):
        with db.database.connection_context():
            barrier.wait()
            try:
                tickets.update(actor, ticket.id, ticket.version, title=title)
                outcomes.append("saved")
            except ConflictError:
                outcomes.append("conflict")

    threads = [threading.Thread(target=save, args=(people[r], f"by {r}")) for r in ("agent", "agent2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "saved"]
    assert Ticket.get_by_id(ticket.id).version == 2


WRITES = {
    "create": lambda p, t: tickets.create(p["requester"], "Another", "one"),
    "update": lambda p, t: tickets.update(p["agent"], t.id, t.version, title="Edited"),
    "status": lambda p, t: tickets.change_status(p["agent"], t.id, t.version, "in_progress"),
    "assign": lambda p, t: tickets.assign(p["agent"], t.id, t.version, p["agent"]),
    "comment": lambda p, t: tickets.comment(p["agent"], t.id, "Public"),
    "note": lambda p, t: tickets.comment(p["agent"], t.id, "Private", internal=True),
    "attach": lambda p, t: tickets.attach(p["requester"], t.id, "log.txt", b"hello"),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_every_write_has_its_audit_entry(ticket, people, write):
    before = AuditEntry.select().count()
    WRITES[write](people, ticket)
    new = list(AuditEntry.select().order_by(AuditEntry.id.desc()).limit(AuditEntry.select().count() - before))
    assert len(new) == 1
    assert new[0].entity_type == "ticket" and new[0].actor_id is not None


def test_a_failing_audit_write_rolls_back_the_change(ticket, people, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        tickets.update(people["agent"], ticket.id, ticket.version, title="Lost?")
    assert Ticket.get_by_id(ticket.id).title == "VPN down"
    assert Ticket.get_by_id(ticket.id).version == 1


HOSTILE = [
    "Drucker kaputt 🖨️ — Zoë in Łódź",
    "王伟的电脑无法启动",
    "مرحبا، الطابعة لا تعمل",
    "[/] [bold]x [@click=app.quit]y <b>z</b> <link href='http://x'>",
    '=HYPERLINK("http://evil")',
]


@pytest.mark.parametrize("title", HOSTILE)
def test_unicode_and_markup_round_trip_literally(people, title):
    t = tickets.create(people["requester"], title, f"{title}\nsecond line")
    fresh = Ticket.get_by_id(t.id)
    assert fresh.title == title
    assert fresh.description == f"{title}\nsecond line"
    c = tickets.comment(people["agent"], t.id, title)
    assert Comment.get_by_id(c.id).body == title


def test_control_characters_are_stripped(people):
    t = tickets.create(
        people["requester"], "Red\x1b[31m alert\x07\u202e gnp.exe\x9b", "line1\r\nline2\x1b]0;owned\x07\tend"
    )
    fresh = Ticket.get_by_id(t.id)
    assert fresh.title == "Red alert gnp.exe"
    assert fresh.description == "line1\nline2\tend"


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("title", "", "title is required"),
        ("title", "   ", "title is required"),
        ("title", "x" * 201, "title is too long: 201 characters, at most 200"),
        ("description", "", "description is required"),
        ("description", "y" * 20_001, "description is too long"),
        ("category", "Plumbing", "unknown category 'Plumbing'"),
        ("impact", "severe", "impact must be high, medium or low"),
        ("urgency", 7, "urgency must be high, medium or low"),
        ("requester", "nobody-here", "no user named"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(people, field, value, message):
    args = {"title": "Fine", "description": "Fine", "category": None, "impact": 3, "urgency": 3}
    args[field] = value
    tickets_before, audit_before = Ticket.select().count(), AuditEntry.select().count()
    with pytest.raises(Exception, match=message):
        tickets.create(people["agent"], **args)
    assert Ticket.select().count() == tickets_before
    assert AuditEntry.select().count() == audit_before


def test_oversize_value_is_an_error_not_a_truncation(ticket):
    """Strict mode: even bypassing the service, the database refuses an oversize title."""
    from peewee import DataError, IntegrityError, OperationalError

    if not db.is_mysql():
        pytest.skip("SQLite has no VARCHAR length limit; the service check covers it")
    with pytest.raises((DataError, IntegrityError, OperationalError)):
        Ticket.update(title="z" * 201).where(Ticket.id == ticket.id).execute()
    assert Ticket.get_by_id(ticket.id).title == "VPN down"


def test_assign_rules_notifications_and_reassignment_count(ticket, people):
    agent, supervisor = people["agent"], people["supervisor"]
    with pytest.raises(PermissionDenied):
        tickets.assign(agent, ticket.id, ticket.version, "agent2")
    t = tickets.assign(agent, ticket.id, ticket.version, agent)
    assert t.assignee_id == agent.id and t.reassignment_count == 0
    t = tickets.assign(supervisor, t.id, t.version, "agent2")
    assert t.reassignment_count == 1
    note = Notification.get(Notification.user == people["agent2"].id)
    assert note.kind == "assigned" and t.number in note.message
    with pytest.raises(ValidationError, match="not an active agent"):
        tickets.assign(supervisor, t.id, t.version, "requester2")


def test_comment_notifies_requester_and_assignee_but_not_the_author(ticket, people):
    t = tickets.assign(people["agent"], ticket.id, ticket.version, people["agent"])
    tickets.comment(people["agent"], t.id, "On it")
    tickets.comment(people["requester"], t.id, "Thanks")
    tickets.comment(people["agent"], t.id, "secret", internal=True)
    kinds = {(n.user.username, n.kind) for n in Notification.select()}
    assert kinds == {("requester", "comment"), ("agent", "comment")}


def test_first_response_is_first_public_staff_comment(ticket, people):
    start = clock.now()
    with clock.frozen(start + timedelta(minutes=5)):
        tickets.comment(people["requester"], ticket.id, "Hello?")
        tickets.comment(people["agent"], ticket.id, "internal only", internal=True)
    assert Ticket.get_by_id(ticket.id).first_response_at is None
    with clock.frozen(start + timedelta(minutes=9)):
        tickets.comment(people["agent"], ticket.id, "Looking now")
    assert Ticket.get_by_id(ticket.id).first_response_at == start + timedelta(minutes=9)


def test_attachments_are_deduplicated_and_size_limited(ticket, people):
    a = tickets.attach(people["requester"], ticket.id, "../../etc/passwd", b"same bytes")
    b = tickets.attach(people["agent"], ticket.id, "copy.txt", b"same bytes")
    assert a.filename == ".._.._etc_passwd"
    assert a.blob_id == b.blob_id and AttachmentBlob.select().count() == 1
    row, content = tickets.attachment_content(people["requester"], a.id)
    assert content == b"same bytes" and row.size == 10
    config.override_settings(config.Settings(bcrypt_cost=4, attachment_max_bytes=1024))
    with pytest.raises(ValidationError, match="limited to 1 KB"):
        tickets.attach(people["agent"], ticket.id, "big.bin", b"x" * 2048)
    assert Attachment.select().count() == 2


def test_an_attachment_the_database_server_cannot_take_is_refused_in_words(ticket, people):
    """Under the desk's limit but over what one statement of MySQL's max_allowed_packet takes
    (the file goes escaped, up to twice its size): refused with the reason, before the server
    would drop the connection on every try; SQLite takes it."""
    config.override_settings(config.Settings(bcrypt_cost=4, attachment_max_bytes=50 * 1024 * 1024))
    dump = bytes(9 * 1024 * 1024)  # zero bytes: each escaped as two
    packet = db.database.execute_sql("SELECT @@max_allowed_packet").fetchone()[0] if db.is_mysql() else None
    if packet is not None and 2 * len(dump) > packet:
        with pytest.raises(ValidationError, match="the database server takes files of up to"):
            tickets.attach(people["agent"], ticket.id, "MEMORY.DMP", dump)
        assert not Attachment.select().where(Attachment.filename == "MEMORY.DMP").exists()
        small = tickets.attach(people["agent"], ticket.id, "mini.dmp", bytes(1024 * 1024))
        assert tickets.attachment_content(people["agent"], small.id)[1] == bytes(1024 * 1024)
    else:
        stored = tickets.attach(people["agent"], ticket.id, "MEMORY.DMP", dump)
        assert tickets.attachment_content(people["agent"], stored.id)[1] == dump


def test_large_attachment_round_trips(ticket, people):
    """MySQL's BLOB would cut this at 64 KiB; the column is LONGBLOB."""
    payload = bytes(range(256)) * 4096  # 1 MiB
    a = tickets.attach(people["agent"], ticket.id, "dump.bin", payload)
    assert tickets.attachment_content(people["agent"], a.id)[1] == payload


def test_linked_asset_and_unlink(ticket, people):
    agent = people["agent"]
    system = inventory.create(agent, "system", {"hostname": "ws-1", "asset_tag": "AT-1", "type": "laptop"})
    t = tickets.update(agent, ticket.id, ticket.version, system="ws-1")
    assert t.system_id == system.id
    t = tickets.update(agent, t.id, t.version, system=None)
    assert t.system_id is None
    with pytest.raises(ValidationError, match="no system"):
        tickets.update(agent, t.id, t.version, system="nope")


def test_c1_control_sequences_are_stripped_whole(people):
    t = tickets.create(people["requester"], "a\x9b31mred \x9d8;;http://evil\x9cb", "x")
    assert Ticket.get_by_id(t.id).title == "ared b"


def test_internal_note_leaves_no_trace_for_the_requester(ticket, people):
    before = Ticket.get_by_id(ticket.id)
    with clock.frozen(before.updated_at + timedelta(hours=1)):
        tickets.comment(people["agent"], ticket.id, "internal", internal=True)
    after = Ticket.get_by_id(ticket.id)
    assert (after.updated_at, after.first_response_at) == (before.updated_at, None)


def test_first_response_is_audited_with_the_comment(ticket, people):
    tickets.comment(people["agent"], ticket.id, "On it")
    entry = AuditEntry.select().where(AuditEntry.action == "comment").get()
    assert audit.changes_of(entry)["first_response_at"][0] is None


def test_reassigning_to_the_same_agent_sends_no_second_notification(ticket, people):
    t = tickets.assign(people["supervisor"], ticket.id, ticket.version, "agent")
    tickets.assign(people["supervisor"], t.id, t.version, "agent")
    assert Notification.select().where(Notification.kind == "assigned").count() == 1


def test_a_ticket_says_how_it_came_in(people):
    """The channel is kept as the contact type: the app's by default, the API's or e-mail's when the
    work runs under that channel, or what the caller names (a monitoring alert)."""
    assert tickets.create(people["agent"], "From the app", "x").contact_type == "app"
    with audit.acting("api"):
        assert tickets.create(people["agent"], "From a script", "x").contact_type == "api"
    assert tickets.create(people["agent"], "Disk full", "x", channel="alert").contact_type == "alert"
