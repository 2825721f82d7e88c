"""Saved and built-in ticket views, the last-used view, and the v1 -> v2 schema migration."""

import json
from datetime import datetime, timedelta

import pytest
from peewee import IntegrityError

from itsm_tui.core import clock
from itsm_tui.core.errors import (
    NotFound,
    PermissionDenied,
    QueryError,
    SchemaError,
    ValidationError,
)
from itsm_tui.core.people import users
from itsm_tui.core.store import db, schema
from itsm_tui.core.store.models import AuditEntry, SavedView, SchemaMeta, Ticket, User, UserPreference
from itsm_tui.core.tickets import categories, queue, teams, views
from itsm_tui.core.tickets import service as tickets
from itsm_tui.core.tickets.query import parse

NOW = datetime(2024, 5, 15, 10, 30)
STAFF_BUILTINS = ["My open", "Unassigned", "My teams", "All open", "Waiting", "Resolved this week"]


def _names(views_list):
    return [v.name for v in views_list]


def _audit(action=None, entity_type="saved_view"):
    query = AuditEntry.select().where(AuditEntry.entity_type == entity_type)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(query.order_by(AuditEntry.id))


# ---------------------------------------------------------------- built-ins per role


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
def test_staff_get_the_staff_builtins(people, role):
    with clock.frozen(NOW):
        got = views.views_for(people[role])
    assert _names(got) == STAFF_BUILTINS
    assert all(v.builtin and v.id is None for v in got)
    sorts = {v.name: v.sort for v in got}
    assert sorts["All open"] == sorts["My open"] == sorts["Unassigned"] == "due"  # most urgent first
    assert sorts["Waiting"] == sorts["Resolved this week"] == "-updated"
    by_name = {v.name: v.query for v in got}
    assert by_name["My open"] == "status:open assignee:me"
    assert by_name["Unassigned"] == "status:open assignee:unassigned"
    assert by_name["All open"] == "status:open"
    assert by_name["Waiting"] == "status:waiting"
    assert by_name["Resolved this week"] == "status:resolved,closed resolved:>=-7d"  # relative, see below


def test_requesters_get_only_their_own_builtins(people):
    got = views.views_for(people["requester"])
    assert [(v.name, v.query, v.sort, v.builtin) for v in got] == [
        ("My tickets", "requester:me", "-updated", True),
        ("My open tickets", "requester:me status:open", "-updated", True),
    ]


def test_resolved_this_week_saved_as_a_view_stays_relative(people):
    """Saved today, it means the last seven days when read a month later, not a frozen date."""
    agent = people["agent"]
    week = {v.name: v for v in views.views_for(agent)}["Resolved this week"]
    with clock.frozen(NOW):
        saved = views.save_view(agent, "My week", week.query, week.sort)
    assert "20" not in saved.query  # no year: no frozen date
    later = NOW + timedelta(days=30)
    assert parse(saved.query, now=later).terms[-1].values[0].start == datetime(
        later.year, later.month, later.day
    ) - timedelta(days=7)


def test_a_saved_view_is_renamed_and_deleted_by_its_owner_only(people):
    agent = people["agent"]
    view = views.save_view(agent, "Printers", "printer", "-updated")
    renamed = views.rename_view(agent, view.id, "Printer trouble")
    assert [v.name for v in views.views_for(agent) if not v.builtin] == ["Printer trouble"]
    assert renamed.query == "printer"
    with pytest.raises(ValidationError):
        views.rename_view(agent, view.id, "All open")  # a built-in's name
    with pytest.raises(NotFound):
        views.rename_view(people["agent2"], view.id, "Mine now")
    views.delete_view(agent, view.id)
    assert [v.name for v in views.views_for(agent) if not v.builtin] == []


def test_every_builtin_query_runs_on_the_queue(people):
    for actor in (people["agent"], people["requester"]):
        for view in views.views_for(actor):
            queue.page(actor, view.query, queue.Sort.parse(view.sort))  # no error


def test_resolved_this_week_finds_recent_resolutions_only(people):
    agent = people["agent"]
    with clock.frozen(datetime(2024, 5, 1, 9, 0)):
        old = tickets.create(agent, "old", "d")
        tickets.change_status(agent, old.id, old.version, "resolved", "fixed")
    with clock.frozen(datetime(2024, 5, 14, 9, 0)):
        new = tickets.create(agent, "new", "d")
        tickets.change_status(agent, new.id, new.version, "resolved", "fixed")
        tickets.create(agent, "still open", "d")
    with clock.frozen(NOW):
        view = next(v for v in views.views_for(agent) if v.name == "Resolved this week")
        rows = queue.page(agent, view.query).rows
    assert [r["title"] for r in rows] == ["new"]


def test_resolved_this_week_goes_by_the_resolve_time_not_later_updates(people):
    """A comment on an old closed ticket updates it; it was still resolved weeks ago."""
    agent = people["agent"]
    with clock.frozen(datetime(2024, 4, 1, 9, 0)):
        old = tickets.create(agent, "old", "d")
        old = tickets.change_status(agent, old.id, old.version, "resolved", "fixed")
        tickets.change_status(agent, old.id, old.version, "closed")
    with clock.frozen(datetime(2024, 5, 14, 9, 0)):
        tickets.comment(agent, old.id, "thanks again, works fine")
        new = tickets.create(agent, "new", "d")
        tickets.change_status(agent, new.id, new.version, "resolved", "fixed")
    with clock.frozen(NOW):
        view = next(v for v in views.views_for(agent) if v.name == "Resolved this week")
        assert [r["title"] for r in queue.page(agent, view.query).rows] == ["new"]
        assert queue.stamp(view.query) is None  # read again on every refresh: the week moves on


def test_disabled_user_gets_no_views(people, system):
    agent = people["agent"]
    users.update_user(system, agent.id, agent.version, is_active=False)
    with pytest.raises(PermissionDenied):
        views.views_for(User.get_by_id(agent.id))


# ---------------------------------------------------------------- saving


def test_save_lists_after_builtins_by_name_and_audits(people):
    agent = people["agent"]
    b = views.save_view(agent, "b network", "cat:network status:open", "priority")
    a = views.save_view(agent, "A vpn", '"vpn" -status:closed', "-created")
    assert a.builtin is False and isinstance(a.id, int)
    assert (a.name, a.query, a.sort) == ("A vpn", '"vpn" -status:closed', "-created")
    assert b.sort == "priority"
    got = views.views_for(agent)
    assert _names(got) == STAFF_BUILTINS + ["A vpn", "b network"]
    assert got[-2] == a and got[-1] == b
    created = _audit("create")
    assert [e.entity_id for e in created] == [b.id, a.id]
    assert all(e.actor_id == agent.id for e in created)


def test_saved_views_are_per_user(people):
    views.save_view(people["agent"], "mine", "status:open", "-updated")
    assert "mine" not in _names(views.views_for(people["agent2"]))
    assert "mine" not in _names(views.views_for(people["supervisor"]))
    # the same name for another user is a separate view
    other = views.save_view(people["agent2"], "mine", "status:new", "-updated")
    assert SavedView.select().where(SavedView.name == "mine").count() == 2
    assert [v.query for v in views.views_for(people["agent2"]) if not v.builtin] == ["status:new"]
    assert other.id != views.views_for(people["agent"])[-1].id


def test_requesters_may_save_views_too(people):
    view = views.save_view(people["requester"], "Printer", "printer", "")
    assert view.sort == "-updated"  # the default sort
    assert _names(views.views_for(people["requester"])) == ["My tickets", "My open tickets", "Printer"]


def test_saving_the_same_name_replaces_it_with_an_update_entry(people):
    agent = people["agent"]
    first = views.save_view(agent, "Mine", "status:open", "-updated")
    second = views.save_view(agent, "mine", "status:waiting", "priority:desc")
    assert second.id == first.id
    assert (second.name, second.query, second.sort) == ("mine", "status:waiting", "-priority")
    rows = list(SavedView.select().where(SavedView.user == agent.id))
    assert [(r.name, r.query, r.sort) for r in rows] == [("mine", "status:waiting", "-priority")]
    updates = _audit("update")
    assert len(updates) == 1 and updates[0].entity_id == first.id
    assert "query" in updates[0].changes and "status:waiting" in updates[0].changes
    # saving it again unchanged writes nothing
    assert views.save_view(agent, "mine", "status:waiting", "-priority") == second
    assert len(_audit("update")) == 1


@pytest.mark.parametrize("name", ["All open", "all OPEN", "My tickets", " Resolved this week "])
def test_builtin_names_are_refused(people, name):
    with pytest.raises(ValidationError, match="built-in"):
        views.save_view(people["agent"], name, "status:open", "-updated")
    assert SavedView.select().count() == 0 and _audit() == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 61, None, "\x1b[31m"])
def test_bad_names_are_refused(people, name):
    with pytest.raises(ValidationError):
        views.save_view(people["agent"], name, "status:open", "-updated")
    assert SavedView.select().count() == 0 and _audit() == []


def test_names_are_cleaned_of_control_characters(people):
    view = views.save_view(people["agent"], "  \x1b[31mRed\x1b[0m alert\u202e ", "", "")
    assert view.name == "Red alert"
    assert views.save_view(people["agent"], "x" * 60, "", "").name == "x" * 60


@pytest.mark.parametrize(
    "query, position",
    [
        ("status:bogus", 7),
        ('"unterminated', 0),
        ("colour:red", 0),
        ("age:3d", 4),
    ],
)
def test_bad_queries_are_refused_with_nothing_written(people, query, position):
    with pytest.raises(QueryError) as caught:
        views.save_view(people["agent"], "broken", query, "-updated")
    assert caught.value.position == position
    assert SavedView.select().count() == 0 and _audit() == []


def test_unknown_names_in_a_staff_query_are_refused(people):
    with pytest.raises(QueryError, match="no category named 'nosuch'"):
        views.save_view(people["agent"], "broken", "cat:nosuch", "")
    assert SavedView.select().count() == 0


@pytest.mark.parametrize("sort", ["sideways", "-priority:desc", "password_hash"])
def test_bad_sorts_are_refused_with_nothing_written(people, sort):
    with pytest.raises(QueryError, match="cannot sort"):
        views.save_view(people["agent"], "broken", "status:open", sort)
    assert SavedView.select().count() == 0 and _audit() == []


def test_a_refused_replacement_keeps_the_old_view(people):
    agent = people["agent"]
    views.save_view(agent, "keep", "status:open", "-updated")
    with pytest.raises(QueryError):
        views.save_view(agent, "keep", "prio:urgent", "-updated")
    (row,) = SavedView.select()
    assert row.query == "status:open" and len(_audit()) == 1


def test_saved_views_follow_a_renamed_team_or_category(people):
    admin, agent = people["admin"], people["agent"]
    teams.add(admin, "Field Support")
    teams.add(admin, "Other")
    written = {
        "field": 'status:open team:"field support" "field support"',  # the free text stays
        "list": '-team:mine,"FIELD SUPPORT",none printer',
        "cat": "cat:network,hardware -category:NETWORK",
        "neither": "team:other cat:hardware",
    }
    saved = {name: views.save_view(agent, name, query, "due").id for name, query in written.items()}
    saved["agent2"] = views.save_view(people["agent2"], "mine", 'team:"Field Support"', "due").id
    teams.rename(admin, "field support", 'Field "Desk"')
    categories.rename(admin, "Network", "Networking")
    queries = {name: SavedView.get_by_id(view_id).query for name, view_id in saved.items()}
    assert queries == {
        "field": 'status:open team:"Field \\"Desk\\"" "field support"',
        "list": '-team:mine,"Field \\"Desk\\"",none printer',
        "cat": "cat:Networking,hardware -category:Networking",
        "neither": "team:other cat:hardware",
        "agent2": 'team:"Field \\"Desk\\""',  # every user's views
    }
    for query in queries.values():
        queue.check_filter(agent, query)  # each names what exists again
    entries = {e.entity_id: json.loads(e.changes) for e in _audit("update")}
    assert set(entries) == {saved["field"], saved["list"], saved["cat"], saved["agent2"]}
    assert entries[saved["cat"]] == {"query": [written["cat"], queries["cat"]]}


def test_saved_views_follow_a_merged_category_to_where_its_tickets_went(people):
    admin, agent = people["admin"], people["agent"]
    categories.add(admin, "Printing")
    ticket = tickets.create(agent, "Jam", "d", category="Printing")
    view = views.save_view(agent, "Printers", "status:open category:printing", "due")
    categories.merge(admin, "Printing", "Hardware")
    query = SavedView.get_by_id(view.id).query
    assert query == "status:open category:Hardware"
    assert [row["id"] for row in queue.page(agent, query).rows] == [ticket.id]


# ---------------------------------------------------------------- deleting


def test_delete_own_view_audited(people):
    agent = people["agent"]
    view = views.save_view(agent, "gone soon", "status:open", "-updated")
    views.delete_view(agent, view.id)
    assert SavedView.select().count() == 0
    (entry,) = _audit("delete")
    assert entry.entity_id == view.id and entry.actor_id == agent.id
    with pytest.raises(NotFound):
        views.delete_view(agent, view.id)


def test_nobody_deletes_another_users_view(people):
    view = views.save_view(people["agent"], "private", "status:open", "-updated")
    for other in ("agent2", "admin", "requester"):
        with pytest.raises(NotFound):
            views.delete_view(people[other], view.id)
    with pytest.raises(NotFound):
        views.delete_view(people["agent"], 999_999)
    assert SavedView.select().count() == 1 and _audit("delete") == []


def test_views_go_with_their_user(people, system):
    # A user who never acted: the append-only log's references (RESTRICT) keep any other.
    quiet = users.create_user(system, "quiet", "agent")
    SavedView.create(user=quiet, name="v", query="", sort="-updated", created_at=clock.now())
    UserPreference.create(user=quiet, key="last_view", value="v")
    User.delete().where(User.id == quiet.id).execute()
    assert SavedView.select().count() == 0 and UserPreference.select().count() == 0


# ---------------------------------------------------------------- default and last view


def test_default_view_per_role(people):
    assert views.default_view(people["agent"]).name == "All open"
    assert views.default_view(people["admin"]).name == "All open"
    assert views.default_view(people["requester"]).name == "My tickets"


def test_default_view_is_the_last_used_one(people):
    agent = people["agent"]
    saved = views.save_view(agent, "VPN", '"vpn"', "priority")
    views.remember_view(agent, "Unassigned")
    assert views.default_view(agent) == next(v for v in views.views_for(agent) if v.name == "Unassigned")
    views.remember_view(agent, "VPN")
    assert views.default_view(agent) == saved
    # one preference row per user and key; others unaffected
    assert UserPreference.select().where(UserPreference.user == agent.id).count() == 1
    assert views.default_view(people["agent2"]).name == "All open"
    # a preference is not audited
    assert _audit(entity_type="user_preference") == []


def test_default_view_falls_back_when_the_view_is_deleted(people):
    agent = people["agent"]
    saved = views.save_view(agent, "short lived", "status:new", "")
    views.remember_view(agent, "short lived")
    assert views.default_view(agent).id == saved.id
    views.delete_view(agent, saved.id)
    assert views.default_view(agent).name == "All open"
    requester = people["requester"]
    views.remember_view(requester, "All open")  # not one of a requester's views
    assert views.default_view(requester).name == "My tickets"
    views.remember_view(requester, "My open tickets")
    assert views.default_view(requester).name == "My open tickets"


def test_default_view_follows_a_renamed_case(people):
    agent = people["agent"]
    views.save_view(agent, "vpn", '"vpn"', "")
    views.remember_view(agent, "vpn")
    views.save_view(agent, "VPN", '"vpn"', "priority")
    assert views.default_view(agent).name == "VPN"


def test_remember_view_validates_the_name(people):
    with pytest.raises(ValidationError):
        views.remember_view(people["agent"], "")
    with pytest.raises(ValidationError):
        views.remember_view(people["agent"], "y" * 61)
    assert UserPreference.select().count() == 0


# ---------------------------------------------------------------- schema v2


def test_the_views_migration_is_version_2():
    assert [version for version, _ in schema.MIGRATIONS][:1] == [2]


def _tables():
    return {name for name in db.database.get_tables()}


def test_v1_database_upgrades_to_v2_keeping_its_data(people):
    agent = people["agent"]
    ticket = tickets.create(agent, "made under v1", "description")
    tickets.comment(agent, ticket.id, "a comment")
    counts = {model: model.select().count() for model in (User, Ticket, AuditEntry)}
    # Make it a version-1 database: without the v2 tables, version 1 recorded.
    db.database.drop_tables([UserPreference, SavedView])
    SchemaMeta.update(value="1").where(SchemaMeta.key == schema.VERSION_KEY).execute()
    try:
        assert {"saved_view", "user_preference"}.isdisjoint(_tables())
        with pytest.raises(SchemaError, match="run itsm-tui init to upgrade"):
            schema.check()

        assert schema.init(latest=2) == (1, 2)

        schema.check(latest=2)
        assert schema.current_version() == 2
        assert {"saved_view", "user_preference"} <= _tables()
        assert {model: model.select().count() for model in counts} == counts
        assert Ticket.get_by_id(ticket.id).title == "made under v1"
        # the new tables work, unique indexes included
        view = views.save_view(agent, "after upgrade", "status:open", "")
        assert views.views_for(agent)[-1] == view
        views.remember_view(agent, "after upgrade")
        assert views.default_view(agent) == view
        with pytest.raises(IntegrityError), db.database.atomic():
            SavedView.create(
                user=agent, name="after upgrade", query="", sort="-updated", created_at=clock.now()
            )
        with pytest.raises(IntegrityError), db.database.atomic():
            UserPreference.create(user=agent, key="last_view", value="x")
        assert schema.init(latest=2) == (2, 2)  # nothing left to do
    finally:
        # MariaDB's database is shared by the whole test session: leave it whole.
        db.database.create_tables([SavedView, UserPreference], safe=True)
        schema._set_version(schema.SCHEMA_VERSION)


def test_migrated_tables_match_fresh_ones(engine):
    def shape():
        return {
            table: (
                [(c.name, c.data_type.lower(), c.null) for c in db.database.get_columns(table)],
                sorted((tuple(i.columns), i.unique) for i in db.database.get_indexes(table)),
                sorted((f.column, f.dest_table, f.dest_column) for f in db.database.get_foreign_keys(table)),
            )
            for table in ("saved_view", "user_preference")
        }

    fresh = shape()
    db.database.drop_tables([UserPreference, SavedView])
    schema._set_version(1)
    try:
        schema.init(latest=2)
        assert shape() == fresh
    finally:
        db.database.create_tables([SavedView, UserPreference], safe=True)
        schema._set_version(schema.SCHEMA_VERSION)
