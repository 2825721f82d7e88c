"""Webhooks out: admins subscribe URLs to ticket events; the background job delivers them.

Events come from the audit log, which every ticket change writes in its own transaction: the
job reads the entries after its cursor (a desk setting), turns each into one outbox row per
subscription that wants it (``webhook_delivery``), then sends what is due. Entries younger than
``SETTLE`` are left for the next pass, so one whose transaction committed late (a lower id
after a higher one) is still seen. A delivery is a JSON POST signed with HMAC-SHA256 over
``<timestamp>.<body>`` with the subscription's secret (``X-Itsm-Signature: sha256=<hex>``,
``X-Itsm-Timestamp``). A failure is retried with growing waits (``ITSM_WEBHOOK_BACKOFF_SECONDS``,
default 30, times 4 per attempt, at most 6 hours); each row keeps the last status and error (the
delivery log). A subscription that has failed for a day is paused and its creator and the admins
are notified. Private, loopback and link-local targets (an IPv4 address inside an IPv6 one
judged as itself) are refused unless the admin allowed them for the subscription; a delivery
connects to the addresses just checked, never to what the name resolves to a moment later, and
follows no redirect (nor an http_proxy). The log names a target by scheme://host[:port] only: a
URL's path may hold its credentials.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import os
import re
import secrets
import socket
import ssl
import time
from datetime import datetime, timedelta
from urllib.parse import SplitResult, urlsplit

from itsm_tui.core import clock
from itsm_tui.core.errors import NotFound, ValidationError
from itsm_tui.core.notify.notifications import notify
from itsm_tui.core.people.permissions import ADMIN, require
from itsm_tui.core.settings import compare_and_set, get_setting, put_setting
from itsm_tui.core.store import audit
from itsm_tui.core.store.db import transactional
from itsm_tui.core.store.models import (
    AuditEntry,
    Category,
    Ticket,
    User,
    WebhookDelivery,
    WebhookSubscription,
    ticket_number,
)
from itsm_tui.core.text import strip_controls

EVENTS = (
    "ticket.created",
    "ticket.updated",
    "ticket.status_changed",
    "ticket.commented",
    "ticket.assigned",
    "sla.at_risk",
    "sla.breached",
)
CURSOR = "webhooks.cursor"  # the id of the last audit entry turned into deliveries
SETTLE = timedelta(seconds=3)
PAUSE_AFTER = timedelta(days=1)
MAX_WAIT = timedelta(hours=6)
TIMEOUT = 10
BATCH = 200
CLAIM = timedelta(minutes=2)
PASS_SECONDS = 30  # a pass stops sending after this long (the terminal app's monitor runs it too)


# ---------------------------------------------------------------- subscriptions (admins)


def _events(values) -> str:
    names = [v.strip() for v in (values or []) if v and v.strip()]
    unknown = sorted(set(names) - set(EVENTS))
    if unknown or not names:
        raise ValidationError(f"events must be some of {', '.join(EVENTS)}", "events")
    return ",".join(e for e in EVENTS if e in names)


_SENDABLE = re.compile(r"[\x21-\x7e]+")  # printable ASCII without spaces: what HTTP can send
# IPv6 addresses that carry an IPv4 address in their last 32 bits (IPv4-mapped, IPv4-compatible,
# NAT64 of RFC 6052): judged by that IPv4 address, where the connection really goes.
_IPV4_INSIDE = tuple(ipaddress.ip_network(n) for n in ("::ffff:0:0/96", "::/96", "64:ff9b::/96"))
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215; global to Python 3.11's tables


def _parts(url: str) -> SplitResult:
    """The URL split, if this desk can send to it (http.client refuses spaces, non-ASCII
    characters, a bad port and credentials before the name's ``@``)."""
    if len(url) > 500 or not _SENDABLE.fullmatch(url):
        raise ValidationError(
            "the URL must be at most 500 characters of ASCII without spaces: percent-encode other "
            "characters (caf%C3%A9 for café) and write an international host name as xn--...",
            "url",
        )
    try:
        parts = urlsplit(url)
        valid = parts.port != 0  # reading the port checks it
    except ValueError:
        valid = False
    if not valid:
        raise ValidationError("the URL's host or port is not valid (a port is 1 to 65535)", "url")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("the URL must be http:// or https:// with a host", "url")
    if "@" in parts.netloc:
        raise ValidationError("the URL must not hold a user name or password (user:password@)", "url")
    return parts


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address in _LOCAL_NAT64:
            return False
        if address.sixtofour:  # 6to4 (2002::/16)
            address = address.sixtofour
        elif any(address in network for network in _IPV4_INSIDE):
            address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.is_global and not address.is_multicast


def _addresses(parts: SplitResult, allow_private: bool) -> list[str]:
    """The addresses the URL's host resolves to now, each public unless ``allow_private``."""
    try:
        infos = socket.getaddrinfo(parts.hostname, _port(parts), type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise ValidationError(f"the host {parts.hostname!r} does not resolve", "url") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        if not allow_private and not _public(ipaddress.ip_address(address)):
            raise ValidationError(
                f"{parts.hostname} is a private, loopback or link-local address ({address}); "
                "an admin may allow it for this subscription",
                "url",
            )
    return addresses


def _port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def _origin(url: str) -> str:
    """scheme://host[:port]: what the log says of a URL, whose path may hold a secret."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def check_target(url: str, allow_private: bool = False) -> str:
    """An http(s) URL this desk can send to, whose host resolves to public addresses only
    (unless allowed)."""
    text = strip_controls(str(url or "")).strip()
    parts = _parts(text)
    if not allow_private:
        _addresses(parts, allow_private)
    return text


@transactional
def subscribe(actor: User, url: str, events, allow_private: bool = False) -> WebhookSubscription:
    """A new subscription; its secret is on the returned row (show it once)."""
    require(actor, "settings.manage")
    now = clock.now()
    row = WebhookSubscription.create(
        url=check_target(url, allow_private),
        events=_events(events),
        secret=secrets.token_hex(32),
        allow_private=bool(allow_private),
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    _start_cursor()
    audit.record(
        actor,
        "create",
        "webhook",
        row.id,
        f"subscribed {_origin(row.url)} to {row.events}",
        {
            "url": [None, _origin(row.url)],
            "events": [None, row.events],
            "allow_private": [None, row.allow_private],
        },
        entity_version=1,
    )
    return row


def subscriptions(actor: User) -> list[WebhookSubscription]:
    require(actor, "settings.manage")
    return list(WebhookSubscription.select().order_by(WebhookSubscription.id))


def subscription(actor: User, subscription_id: int) -> WebhookSubscription:
    require(actor, "settings.manage")
    row = WebhookSubscription.get_or_none(WebhookSubscription.id == subscription_id)
    if row is None:
        raise NotFound(f"webhook subscription {subscription_id} does not exist")
    return row


@transactional
def change(actor: User, subscription_id: int, events=None, active: bool | None = None) -> WebhookSubscription:
    """Change the events, or pause (``active`` False) and resume (True: failures forgotten)."""
    row = subscription(actor, subscription_id)
    values: dict = {}
    if events is not None:
        values["events"] = _events(events)
    if active is not None:
        values.update(is_active=bool(active), paused_at=None if active else clock.now(), failing_since=None)
    before = {k: getattr(row, k) for k in values}
    WebhookSubscription.update(
        **values, updated_at=clock.now(), version=WebhookSubscription.version + 1
    ).where(WebhookSubscription.id == row.id).execute()
    audit.record(
        actor, "update", "webhook", row.id, f"changed webhook {_origin(row.url)}", audit.diff(before, values)
    )
    return WebhookSubscription.get_by_id(row.id)


@transactional
def unsubscribe(actor: User, subscription_id: int) -> None:
    row = subscription(actor, subscription_id)
    row.delete_instance()  # its deliveries go with it (ON DELETE CASCADE)
    WebhookDelivery.delete().where(WebhookDelivery.subscription == row.id).execute()
    origin = _origin(row.url)
    audit.record(actor, "delete", "webhook", row.id, f"unsubscribed {origin}", {"url": [origin, None]})


def deliveries(actor: User, subscription_id: int, limit: int = 100) -> list[WebhookDelivery]:
    """The delivery log of one subscription, newest first."""
    row = subscription(actor, subscription_id)
    return list(
        WebhookDelivery.select()
        .where(WebhookDelivery.subscription == row.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(max(1, min(limit, 500)))
    )


# ---------------------------------------------------------------- the outbox


def _start_cursor() -> None:
    if get_setting(CURSOR) is None:  # events from now on, not the whole history
        put_setting(CURSOR, AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id.desc()).scalar() or 0)


def event_of(entry: AuditEntry) -> str | None:
    """The webhook event an audit entry is, if any (internal notes and imported history are
    none)."""
    if entry.entity_type != "ticket" or entry.channel == "import":
        return None
    changes = audit.changes_of(entry)
    if entry.action == "sla_alert":
        return f"sla.{(changes.get('sla_alert') or [None, {}])[1].get('state')}"
    if entry.action == "update" and "status" in changes:
        return "ticket.status_changed"
    return {
        "create": "ticket.created",
        "update": "ticket.updated",
        "assign": "ticket.assigned",
        "comment": "ticket.commented",
    }.get(entry.action)


def payload(entry: AuditEntry, event: str) -> dict:
    ticket = (
        Ticket.select(Ticket, Category.name.alias("category_name"))
        .join(Category)
        .where(Ticket.id == entry.entity_id)
        .objects()
        .first()
    )
    body: dict = {
        "event": event,
        "at": entry.at.isoformat() + "Z",
        "actor": entry.actor.username if entry.actor_id else None,
        "channel": entry.channel,
        "ticket": {"number": ticket_number(entry.entity_id or 0)},
        "changes": audit.changes_of(entry),
        "summary": entry.summary,
    }
    if ticket is not None:
        names = dict(
            User.select(User.id, User.username)
            .where(User.id.in_([i for i in (ticket.requester_id, ticket.assignee_id) if i]))
            .tuples()
        )
        body["ticket"] |= {
            "title": ticket.title,
            "status": ticket.status,
            "priority": ticket.priority,
            "category": ticket.category_name,
            "requester": names.get(ticket.requester_id),
            "assignee": names.get(ticket.assignee_id),
            "version": ticket.version,
        }
    return body


@transactional
def enqueue(now: datetime | None = None, limit: int = BATCH) -> int:
    """Turn the audit entries after the cursor (settled ones) into deliveries; returns how many."""
    now = now or clock.now()
    cursor = get_setting(CURSOR)
    wanted = [s for s in WebhookSubscription.select().where(WebhookSubscription.is_active)]
    if cursor is None:
        if wanted:
            _start_cursor()
        return 0
    entries = list(AuditEntry.select().where(AuditEntry.id > cursor).order_by(AuditEntry.id).limit(limit))
    young = next((n for n, e in enumerate(entries) if e.at > now - SETTLE), len(entries))
    entries = entries[:young]  # in id order up to the first that has not settled
    if not entries or not compare_and_set(CURSOR, cursor, entries[-1].id):
        return 0  # another process's pass moved the cursor first: it queues these
    made = 0
    for entry in entries:
        event = event_of(entry)
        takers = [s for s in wanted if event in s.events.split(",")] if event else []
        if event and takers:
            text = json.dumps(payload(entry, event), ensure_ascii=False, sort_keys=True, default=str)
            for sub in takers:
                WebhookDelivery.create(
                    subscription=sub, event=event, payload=text, next_attempt_at=now, created_at=now
                )
                made += 1
    return made


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class _Pinned(http.client.HTTPConnection):
    """Connects to ``addresses``, the ones checked, not to what the host name resolves to by
    the time it connects (DNS rebinding); the Host header still names the host."""

    addresses: list[str]  # set before connecting

    def connect(self) -> None:
        error: OSError = OSError(f"{self.host} has no address")
        for address in self.addresses:
            try:
                self.sock = socket.create_connection((address, self.port), self.timeout)
                return
            except OSError as exc:
                error = exc
        raise error


class _PinnedTLS(http.client.HTTPSConnection, _Pinned):
    """HTTPSConnection.connect wraps _Pinned's socket in TLS for the host name (server name and
    certificate check), its ``super().connect()`` being _Pinned's."""


def _backoff(attempts: int) -> timedelta:
    try:
        base = float(os.environ.get("ITSM_WEBHOOK_BACKOFF_SECONDS", "30"))
    except ValueError:
        base = 30.0
    return min(timedelta(seconds=base * 4 ** (attempts - 1)), MAX_WAIT)


def send_due(now: datetime | None = None, limit: int = BATCH) -> tuple[int, int]:
    """Send the deliveries due now; returns (delivered, failed). Blocks on the network: run it
    from the background job, never a UI thread."""
    now = now or clock.now()
    due = list(
        WebhookDelivery.select(WebhookDelivery, WebhookSubscription)
        .join(WebhookSubscription)
        .where(
            WebhookDelivery.delivered_at.is_null(),
            WebhookDelivery.next_attempt_at <= now,
            WebhookSubscription.is_active,
        )
        .order_by(WebhookDelivery.id)
        .limit(limit)
    )
    delivered = failed = 0
    failing: set[int] = set()  # subscriptions that failed in this pass: the rest of theirs wait
    budget = time.monotonic() + PASS_SECONDS
    for row in due:
        if row.subscription_id in failing or time.monotonic() > budget or not _claim(row, now):
            continue
        status, error = _post(row)
        if error is None:
            WebhookDelivery.update(
                delivered_at=clock.now(), attempts=row.attempts + 1, last_status=status, last_error=None
            ).where(WebhookDelivery.id == row.id).execute()
            WebhookSubscription.update(failing_since=None).where(
                WebhookSubscription.id == row.subscription_id
            ).execute()
            delivered += 1
        else:
            _failed(row, now, status, error)
            failing.add(row.subscription_id)
            failed += 1
    return delivered, failed


def _claim(row: WebhookDelivery, now: datetime) -> bool:
    return (
        WebhookDelivery.update(next_attempt_at=now + CLAIM)
        .where(WebhookDelivery.id == row.id, WebhookDelivery.next_attempt_at == row.next_attempt_at)
        .execute()
        == 1
    )


def _post(row: WebhookDelivery) -> tuple[int | None, str | None]:
    """Send one delivery; any failure, whatever it is, is the delivery's error (the answer's
    status, if any), never the job's: one bad delivery must not stop the others."""
    sub = row.subscription
    body = row.payload.encode("utf-8")
    timestamp = str(int(clock.now().timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "itsm-tui-webhooks",
        "X-Itsm-Event": row.event,
        "X-Itsm-Delivery": str(row.id),
        "X-Itsm-Timestamp": timestamp,
        "X-Itsm-Signature": sign(sub.secret, timestamp, body),
    }
    try:
        parts = _parts(sub.url)
        host, port = str(parts.hostname), _port(parts)
        if parts.scheme == "https":
            connection: _Pinned = _PinnedTLS(
                host, port, timeout=TIMEOUT, context=ssl.create_default_context()
            )
        else:
            connection = _Pinned(host, port, timeout=TIMEOUT)
        connection.addresses = _addresses(parts, sub.allow_private)  # again: the name may point elsewhere now
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("POST", target, body, headers)
            status = connection.getresponse().status  # a redirect is a failure, never followed
        finally:
            connection.close()
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return status, None if 200 <= status < 300 else f"HTTP {status}"


@transactional
def _failed(row: WebhookDelivery, now: datetime, status: int | None, error: str) -> None:
    attempts = row.attempts + 1
    WebhookDelivery.update(
        attempts=attempts,
        last_status=status,
        last_error=strip_controls(error)[:500],
        next_attempt_at=now + _backoff(attempts),
    ).where(WebhookDelivery.id == row.id).execute()
    sub = WebhookSubscription.get_by_id(row.subscription_id)
    if sub.failing_since is None:
        WebhookSubscription.update(failing_since=now).where(WebhookSubscription.id == sub.id).execute()
    elif now - sub.failing_since >= PAUSE_AFTER and sub.is_active:
        WebhookSubscription.update(is_active=False, paused_at=now).where(
            WebhookSubscription.id == sub.id
        ).execute()
        message = (
            f"The webhook {sub.id} to {_origin(sub.url)} was paused: its deliveries have failed for a "
            f"day ({error})"
        )
        admins = User.select().where(
            (User.role == ADMIN) & User.is_active & User.password_hash.is_null(False)
        )
        for user in {u.id: u for u in [*admins, *([sub.created_by] if sub.created_by_id else [])]}.values():
            notify(user, None, "webhook_paused", message)
        audit.record(None, "pause", "webhook", sub.id, message[:500])


def run_due(now: datetime | None = None) -> dict[str, int]:
    """The background job's pass: queue new events, send what is due."""
    queued = enqueue(now)
    delivered, failed = send_due(now)
    return {"webhooks queued": queued, "webhooks delivered": delivered, "webhooks failed": failed}
