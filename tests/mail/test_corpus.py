"""Every real-world message in ../shared/data/mail (a public mail parser's test suite) ingests
into a ticket whose requester, title and attachment names match what that parser extracted, with
a readable description, or is recognised as an automatic reply or a bounce; none crashes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from mail_helpers import desk, ingest

from itsm_tui.core.mail.parse import parse
from itsm_tui.core.store.models import Attachment, Ticket, User

CORPUS = Path(os.environ.get("ITSM_MAIL_CORPUS", Path(__file__).parents[3] / "shared" / "data" / "mail"))
if not CORPUS.is_dir():
    CORPUS = Path("/work/shared/data/mail")
# Names that parser makes up for parts without one (its HTML copy of the body, "file", "Mail.eml"),
# not names the messages carry.
INVENTED = {"message.html", "file", "Mail.eml"}
# Senders no account can have: an address with spaces in a quoted local part (a spam sample).
UNUSABLE = {"mail076"}


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_multi_constructor(
    "!ruby/", lambda loader, suffix, node: loader.construct_mapping(node, deep=True)
)
_Loader.add_constructor("!binary", lambda loader, node: loader.construct_scalar(node))


def _expected(box: Path) -> dict:
    return yaml.load(box.with_suffix(".yml").read_text(encoding="utf-8"), Loader=_Loader) or {}


def test_every_corpus_message_ingests_or_is_recognised(engine, system, desk, monkeypatch):
    monkeypatch.setenv("ITSM_MAIL_ALLOWED_DOMAINS", "*")
    monkeypatch.setenv("ITSM_MAIL_RATE_LIMIT", "1000")
    boxes = sorted(CORPUS.glob("*.box"))
    assert len(boxes) >= 20
    outcomes = {}
    for box in boxes:
        name = box.name.split("-")[0].removesuffix(".box")
        want = _expected(box)
        if name in UNUSABLE:
            with pytest.raises(Exception, match="cannot take requests"):
                ingest(box.read_bytes())
            continue
        outcome = ingest(box.read_bytes())
        outcomes[name] = outcome.outcome
        if outcome.outcome in ("auto-reply", "bounce"):
            continue
        assert outcome.outcome == "ticket", name
        ticket = Ticket.get_by_id(outcome.ticket_id)
        requester = User.get_by_id(ticket.requester_id)
        if "?q?" not in requester.email:  # an encoded word is never decoded into an address
            assert requester.email == want.get("from_email", requester.email).lower().strip("'\""), name
        assert ticket.title == " ".join(str(want.get("subject", "")).split()) or "(no subject)", name
        assert ticket.description.strip(), name
        assert ticket.contact_type == "e-mail"
        names = {a.filename for a in Attachment.select().where(Attachment.ticket == ticket.id)}
        wanted = {a.get("filename") for a in want.get("attachments") or []} - INVENTED - {None}
        assert wanted <= names, name
    assert outcomes["mail090"] == "auto-reply"
    assert outcomes["mail092"] == "bounce"
    # Two other senders' messages with one Message-ID: two tickets; each again is a duplicate.
    first, second = ((CORPUS / f"{name}.box").read_bytes() for name in ("mail050", "mail105"))
    assert parse(first).message_id == parse(second).message_id
    assert (outcomes["mail050"], outcomes["mail105"]) == ("ticket", "ticket")
    for raw in ((CORPUS / "mail001.box").read_bytes(), first, second):
        assert ingest(raw).outcome == "duplicate"
