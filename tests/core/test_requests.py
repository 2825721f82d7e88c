"""A retried save is written once: request keys, on both engines."""

import threading

import pytest

from itsm_tui.core import drafts
from itsm_tui.core.errors import ValidationError
from itsm_tui.core.store import db
from itsm_tui.core.store.models import AuditEntry, Comment, Ticket
from itsm_tui.core.tickets import service as tickets


@pytest.fixture
def ticket(people):
    return tickets.create(people["requester"], "VPN down", "Cannot connect")


def test_a_comment_retried_with_its_key_is_stored_once(ticket, people):
    key = drafts.new_request_key()
    first = tickets.comment(people["agent"], ticket.id, "Rebooted the router", request_key=key)
    again = tickets.comment(people["agent"], ticket.id, "Rebooted the router", request_key=key)
    assert again.id == first.id
    assert Comment.select().where(Comment.ticket == ticket.id).count() == 1
    assert AuditEntry.select().where(AuditEntry.action == "comment").count() == 1


def test_a_status_change_retried_after_it_committed_is_no_conflict_with_oneself(ticket, people):
    key = drafts.new_request_key()
    moved = tickets.change_status(people["agent"], ticket.id, ticket.version, "in_progress", request_key=key)
    # The answer was lost; the operator presses ctrl+s again with the version they had read.
    again = tickets.change_status(people["agent"], ticket.id, ticket.version, "in_progress", request_key=key)
    assert (again.status, again.version) == ("in_progress", moved.version)
    assert (
        AuditEntry.select()
        .where((AuditEntry.entity_id == ticket.id) & (AuditEntry.action == "update"))
        .count()
        == 1
    )


def test_a_new_ticket_retried_is_one_ticket_and_keys_are_not_shared(people):
    key = drafts.new_request_key()
    made = tickets.create(people["agent"], "Printer", "jams", request_key=key)
    assert tickets.create(people["agent"], "Printer", "jams", request_key=key).id == made.id
    assert Ticket.select().count() == 1
    with pytest.raises(ValidationError, match="already used"):
        tickets.create(people["agent2"], "Printer", "jams", request_key=key)
    with pytest.raises(ValidationError, match="already used"):
        tickets.comment(people["agent"], made.id, "x", request_key=key)
    with pytest.raises(ValidationError, match="request key"):
        tickets.comment(people["agent"], made.id, "x", request_key="'; DROP TABLE x")


def test_two_simultaneous_tries_of_one_comment_write_it_once(ticket, people, engine):
    if engine.startswith("sqlite"):
        pytest.skip("SQLite runs one writer at a time; the sequential case is covered above")
    key = drafts.new_request_key()
    barrier = threading.Barrier(2)
    results = []

    def attempt():
        with db.database.connection_context():
            barrier.wait()
            results.append(tickets.comment(people["agent"], ticket.id, "once", request_key=key).id)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and results[0] == results[1]
    assert Comment.select().where(Comment.ticket == ticket.id).count() == 1
