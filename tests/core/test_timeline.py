"""The ticket timeline (comments, notes, readable history) and the agents' workload."""

import json
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest

from itsm_tui.core import clock
from itsm_tui.core.errors import NotFound, PermissionDenied
from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.people import users
from itsm_tui.core.store import audit, db, schema
from itsm_tui.core.store.models import OPEN_STATUSES, AuditEntry, Category, Comment, Ticket, User
from itsm_tui.core.tickets import service as tickets
from itsm_tui.core.tickets import timeline

T0 = datetime(2024, 3, 4, 9, 0)


class _Clock:
    """A clock that moves one minute on every reading: every event gets its own time."""

    def __init__(self, start=T0):
        self.at = start

    def __call__(self):
        self.at += timedelta(minutes=1)
        return self.at


@pytest.fixture
def story(people):
    """A ticket with a life: comments, a note, assignment, re-prioritising, resolution."""
    agent, requester, supervisor = people["agent"], people["requester"], people["supervisor"]
    with clock.frozen(_Clock()):
        t = tickets.create(requester, "Printer jams", "It jams on every page", category="Hardware")
        tickets.comment(requester, t.id, "Also makes a noise")
        t = tickets.assign(supervisor, t.id, t.version, "agent2")
        tickets.comment(agent, t.id, "Looks like the fuser", internal=True)
        t = tickets.change_status(agent, t.id, t.version, "in_progress")
        t = tickets.update(agent, t.id, t.version, priority="critical", category="Network")
        tickets.comment(agent, t.id, "Ordered a new fuser")
        t = tickets.assign(supervisor, t.id, t.version, "agent")
        t = tickets.change_status(agent, t.id, t.version, "resolved", "Replaced the fuser")
    return t


def _texts(events, kind=None):
    return [e.text for e in events if kind is None or e.kind == kind]


def test_staff_see_everything_oldest_first(people, story):
    events = timeline.timeline(people["agent2"], story)
    assert [(e.kind, e.author, e.text) for e in events] == [
        ("history", "requester", "created the ticket"),
        ("comment", "requester", "Also makes a noise"),
        ("history", "supervisor", "assignee: (none) → agent2"),
        ("note", "agent", "Looks like the fuser"),
        ("history", "agent", "status: New → In progress"),
        ("history", "agent", "priority: Low → Critical; category: Hardware → Network"),
        ("comment", "agent", "Ordered a new fuser"),
        ("history", "supervisor", "assignee: agent2 → agent"),
        ("history", "agent", "status: In progress → Resolved; resolution note: Replaced the fuser"),
    ]
    times = [e.at for e in events]
    assert times == sorted(times) and len(set(times)) == len(times)


def test_requester_never_sees_notes_but_sees_history(people, story):
    events = timeline.timeline(people["requester"], story)
    assert [e.kind for e in events].count("note") == 0
    assert "Looks like the fuser" not in " ".join(_texts(events))
    assert _texts(events, "comment") == ["Also makes a noise", "Ordered a new fuser"]
    assert "status: In progress → Resolved; resolution note: Replaced the fuser" in _texts(events)
    assert "assignee: agent2 → agent" in _texts(events, "history")
    staff = timeline.timeline(people["agent"], story)
    assert len(events) == len(staff) - 1  # everything but the note


def test_event_ids_name_their_source(people, story):
    events = timeline.timeline(people["agent"], story)
    comment_ids = {c.id for c in Comment.select().where(Comment.ticket == story.id)}
    assert {e.id for e in events if e.kind in ("comment", "note")} == comment_ids
    assert len({(e.kind, e.id) for e in events}) == len(events)


def test_other_requesters_cannot_read_the_timeline(people, story):
    with pytest.raises(NotFound):
        timeline.timeline(people["requester2"], story)


def test_comment_and_note_audit_entries_are_not_repeated(people, story):
    events = timeline.timeline(people["agent"], story)
    assert not any("comment on" in e.text or "note on" in e.text for e in events)


def test_history_renders_impact_urgency_title_and_unassignment(people):
    agent = people["agent"]
    with clock.frozen(_Clock()):
        t = tickets.create(agent, "Old title", "d", impact="low", urgency="low")
        t = tickets.assign(agent, t.id, t.version, agent)
        t = tickets.update(agent, t.id, t.version, impact="high", title="New title")
        t = tickets.assign(agent, t.id, t.version, None)
        t = tickets.update(agent, t.id, t.version, description="longer description")
    history = _texts(timeline.timeline(agent, t), "history")
    assert history == [
        "created the ticket",
        "assignee: (none) → agent",
        "priority: Low → Medium; impact: Low → High; title: Old title → New title",
        "assignee: agent → (none)",
        "description edited",
    ]


def test_same_second_change_comes_before_its_comment(people):
    """Reopening with a note writes the status change and the comment in one second."""
    requester, agent = people["requester"], people["agent"]
    t = tickets.create(requester, "Reopen me", "d")
    t = tickets.change_status(agent, t.id, t.version, "resolved", "done")
    with clock.frozen(datetime(2030, 1, 1)):
        tickets.change_status(requester, t.id, t.version, "in_progress", "still broken")
    events = timeline.timeline(requester, t)
    assert [(e.kind, e.text) for e in events[-2:]] == [
        ("history", "status: Resolved → In progress"),
        ("comment", "still broken"),
    ]


def test_attachments_appear_by_name(people):
    t = tickets.create(people["requester"], "Screenshot", "d")
    tickets.attach(people["requester"], t.id, "error.png", b"\x89PNG")
    assert _texts(timeline.timeline(people["requester"], t), "history")[-1] == "attached error.png"


def test_deleted_referenced_records_still_render(people):
    agent = people["agent"]
    extra = Category.create(name="Temporary")
    t = tickets.create(agent, "x", "d", category="Temporary")
    t = tickets.update(agent, t.id, t.version, category="General")
    Category.update(name="Renamed").where(Category.id == extra.id).execute()
    Category.delete().where(Category.id == extra.id).execute()  # no log entry of its delete
    # the name it had when the change was written, whatever happened to the record since
    assert _texts(timeline.timeline(agent, t), "history")[-1] == "category: Temporary → General"
    entry = (
        AuditEntry.select()
        .where((AuditEntry.entity_type == "ticket") & (AuditEntry.entity_id == t.id))
        .order_by(AuditEntry.id.desc())
        .first()
    )
    # the same change as an entry written before names were kept (the log is append-only, so a
    # copy of it without the names): the id, as nothing else names it
    kept = {name: getattr(entry, name) for name in entry._meta.sorted_field_names if name != "id"}
    AuditEntry.create(**{**kept, "changes": json.dumps(audit.changes_of(entry))})
    assert _texts(timeline.timeline(agent, t), "history")[-1] == f"category: category #{extra.id} → General"


@contextmanager
def log_as_an_older_release_wrote_it():
    """Rewrite log entries into an older release's form: the app's own triggers refuse any
    change to the log (SQLite), so they are lifted for the rewrite and put back."""
    if not db.is_mysql():
        for verb in ("update", "delete"):
            db.database.execute_sql(f"DROP TRIGGER audit_log_no_{verb}")
    try:
        yield
    finally:
        schema._append_only()


def test_deleting_a_system_keeps_its_name_in_the_tickets_history(people):
    agent = people["agent"]
    network = inventory.create(agent, "network", {"name": "LAN", "cidr": "10.0.0.0/24"})
    system = inventory.create(
        agent, "system", {"hostname": "ws-015", "asset_tag": "A-15", "type": "desktop", "network": network.id}
    )
    t = tickets.create(agent, "Slow", "d", system="ws-015")
    t = tickets.update(agent, t.id, t.version, system=None)
    t = tickets.update(agent, t.id, t.version, system="ws-015")
    inventory.delete(agent, "system", system.id)
    history = _texts(timeline.timeline(agent, t), "history")
    assert history[-3:] == ["system: ws-015 → (none)", "system: (none) → ws-015", "system: ws-015 → (none)"]
    # entries written before names were kept find the name in the log entry of the delete
    with log_as_an_older_release_wrote_it():
        for entry in AuditEntry.select().where(AuditEntry.changes.is_null(False)):
            entry.changes = json.dumps(audit.changes_of(entry))
            entry.save()
    history = _texts(timeline.timeline(agent, t), "history")
    assert history[-3:] == ["system: ws-015 → (none)", "system: (none) → ws-015", "system: ws-015 → (none)"]


class _Counter:
    def __init__(self, monkeypatch):
        self.statements = []
        real = db.database.obj.execute_sql

        def counting(sql, params=None, *args, **kwargs):
            self.statements.append(sql)
            return real(sql, params, *args, **kwargs)

        monkeypatch.setattr(db.database.obj, "execute_sql", counting)

    def __len__(self):
        return len(self.statements)


def _busy_ticket(people, rounds: int) -> Ticket:
    agent, agent2, supervisor = people["agent"], people["agent2"], people["supervisor"]
    t = tickets.create(people["requester"], f"busy {rounds}", "d")
    for i in range(rounds):
        tickets.comment(people["requester"], t.id, f"public {i}")
        tickets.comment(agent, t.id, f"note {i}", internal=True)
        t = tickets.assign(supervisor, t.id, t.version, agent if i % 2 else agent2)
        t = tickets.update(
            agent, t.id, t.version, category=("Network", "Software")[i % 2], priority=(i % 4) + 1
        )
    return t


def test_query_count_does_not_grow_with_the_ticket(people, monkeypatch):
    small, large = _busy_ticket(people, 1), _busy_ticket(people, 12)
    counts = {}
    for name, t in (("small", small), ("large", large)):
        for role in ("agent", "requester"):
            counter = _Counter(monkeypatch)
            events = timeline.timeline(people[role], t)
            counts[(name, role)] = len(counter)
            monkeypatch.undo()
            assert len(events) > 1
    # 6: the permission check re-reads the actor's role, then ticket, comments, audit, names
    assert counts[("small", "agent")] == counts[("large", "agent")] <= 6
    assert counts[("small", "requester")] == counts[("large", "requester")] <= 6
    large_events = timeline.timeline(people["agent"], large)
    assert len(large_events) == 1 + 12 * 4


# ---------------------------------------------------------------- agent load


def _independent_load() -> dict[str, int]:
    load = {}
    for user in User.select():
        if user.role == "requester" or not user.is_active or user.username == "system":
            continue
        load[user.username] = sum(
            1 for t in Ticket.select() if t.assignee_id == user.id and t.status in OPEN_STATUSES
        )
    return load


def test_agent_load_counts_open_assigned_tickets(people, system):
    agent, agent2, supervisor = people["agent"], people["agent2"], people["supervisor"]
    idle = users.create_user(system, "aaron", "agent")
    gone = users.create_user(system, "gone", "agent")
    for i in range(3):
        t = tickets.create(agent, f"a{i}", "d")
        tickets.assign(agent, t.id, t.version, agent)
    t = tickets.create(agent, "w", "d")
    t = tickets.assign(agent, t.id, t.version, agent)
    tickets.change_status(agent, t.id, t.version, "waiting_on_vendor")  # still open
    t = tickets.create(agent, "done", "d")
    t = tickets.assign(agent, t.id, t.version, agent)
    tickets.change_status(agent, t.id, t.version, "resolved", "fixed")  # not open any more
    t = tickets.create(agent2, "b", "d")
    tickets.assign(agent2, t.id, t.version, agent2)
    t = tickets.create(supervisor, "s", "d")
    t = tickets.assign(supervisor, t.id, t.version, gone)
    tickets.create(agent, "unassigned", "d")
    gone = User.get_by_id(gone.id)
    users.update_user(system, gone.id, gone.version, is_active=False)

    load = timeline.agent_load(supervisor)
    assert [(u.username, n) for u, n in load] == [
        ("aaron", 0),
        ("admin", 0),
        ("supervisor", 0),
        ("agent2", 1),
        ("agent", 4),
    ]
    assert {u.username: n for u, n in load} == _independent_load()
    assert all(isinstance(u, User) for u, _ in load)
    assert idle.id in {u.id for u, _ in load}


def test_agent_load_is_one_query_and_staff_only(people, monkeypatch):
    for i in range(5):
        t = tickets.create(people["agent"], f"t{i}", "d")
        tickets.assign(people["agent"], t.id, t.version, people["agent"])
    counter = _Counter(monkeypatch)
    load = timeline.agent_load(people["agent"])
    assert len(counter) == 2  # the permission check's role lookup, then one aggregate
    monkeypatch.undo()
    assert dict((u.username, n) for u, n in load)["agent"] == 5
    with pytest.raises(PermissionDenied):
        timeline.agent_load(people["requester"])
