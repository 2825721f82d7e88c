"""What kind of message came in: a person's mail, an automatic reply, or a bounce.

Automatic mail (RFC 3834: ``Auto-Submitted`` other than ``no``; the older ``X-Autoreply``,
``X-Autorespond``, ``Precedence: bulk/junk/list``, mailing lists' ``List-Id``; an empty
Return-Path) never opens a ticket and is never answered, so two robots cannot loop. A
delivery-status report (RFC 3464: the message itself a ``multipart/report``) is a bounce: it says
which of our messages could not be delivered, to whom, and why. A report attached to a person's
message ("my mails bounce, see below") is that person's mail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from itsm_tui.core.mail.parse import MESSAGE_ID, Parsed, decode, normal_id

NORMAL, AUTO_REPLY, BOUNCE = "normal", "auto-reply", "bounce"
_DAEMONS = re.compile(r"^(mailer-daemon|postmaster)@", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (status notification|failure)|returned mail|failure notice", re.IGNORECASE
)


@dataclass(frozen=True)
class Bounce:
    recipient: str
    reason: str
    original_ids: tuple[str, ...]  # the Message-IDs of the message that bounced, if it says


def kind(mail: Parsed) -> str:
    if bounce(mail) is not None:
        return BOUNCE
    return AUTO_REPLY if is_automatic(mail) else NORMAL


def is_automatic(mail: Parsed) -> bool:
    auto = mail.header("Auto-Submitted").lower()
    if auto and auto.split(";")[0].strip() != "no":
        return True
    if mail.header("X-Autoreply") or mail.header("X-Autorespond"):
        return True
    if mail.header("Precedence").lower().strip() in ("bulk", "junk", "list"):
        return True
    if mail.header("List-Id"):
        return True
    return mail.header("Return-Path").strip() == "<>"


def bounce(mail: Parsed) -> Bounce | None:
    """The bounce a delivery-status report (or a mailer daemon's plain notice) describes."""
    message = mail.message
    if message is None:
        return None
    parts = message.iter_parts() if message.get_content_type() == "multipart/report" else ()
    status = next((p for p in parts if p.get_content_type() == "message/delivery-status"), None)
    if status is None and not (_DAEMONS.match(mail.from_address) and _BOUNCE_SUBJECT.search(mail.subject)):
        return None
    recipient, reason = "", ""
    if status is not None:
        fields = _status_fields(status)
        recipient = fields.get("final-recipient", fields.get("original-recipient", "")).split(";")[-1]
        reason = fields.get("diagnostic-code", "").split(";")[-1] or fields.get("status", "")
    return Bounce(
        recipient=" ".join(recipient.split()).strip("<>"),
        reason=" ".join(reason.split())[:300] or "no reason given",
        original_ids=_original_ids(message, mail.body),
    )


def _status_fields(part: Message) -> dict[str, str]:
    fields: dict[str, str] = {}
    blocks = part.get_payload()
    for block in blocks if isinstance(blocks, list) else []:
        for name, value in block.items() if isinstance(block, Message) else []:
            fields.setdefault(name.lower(), str(value))
    return fields


def _original_ids(message: Message, body: str) -> tuple[str, ...]:
    """The bounced message's own Message-ID (and its thread's), from the returned message or
    its headers; else any Message-ID the notice quotes."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, Message):
                text = " ".join(str(inner.get(h, "")) for h in ("Message-ID", "References"))
                found = MESSAGE_ID.findall(text)
                if found:
                    return tuple(normal_id(i) for i in found)
        elif kind == "text/rfc822-headers":
            data = part.get_payload(decode=True)
            text = decode(data, part.get_content_charset()) if isinstance(data, bytes) else ""
            match = re.search(r"^Message-ID:\s*(<[^<>\s]+>)", text, re.IGNORECASE | re.MULTILINE)
            if match:
                return (normal_id(match.group(1)),)
    return tuple(normal_id(i) for i in MESSAGE_ID.findall(body) if "@" in i)
