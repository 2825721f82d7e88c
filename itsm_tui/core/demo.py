"""Demo data (deterministic, made through the services) and bulk tickets for benchmarks."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from . import audit, clock, inventory, tickets, users
from .auth import hash_password
from .db import database, optimize, transactional
from .errors import ValidationError
from .models import Category, Ticket, User
from .permissions import require

DEMO_PASSWORD = "itsm-demo-pass"
DEPARTMENTS = ("Finance", "Engineering", "Sales", "Operations")
NETWORKS = (
    ("Office LAN", "10.10.0.0/22", 10, "HQ, floors 1-3"),
    ("Datacenter", "10.20.0.0/24", 20, "Server room B"),
    ("Guest Wi-Fi", "192.168.50.0/24", 50, "HQ, all floors"),
)
FIRST = ("Anna", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hiro", "Ingrid", "Jonas",
         "Zoë", "Liam", "Maya", "Nikolai", "Olga", "Pedro", "Qiu", "Rania", "Sven", "Wang")
LAST = ("Smith", "Müller", "García", "Kowalski", "Łukasz", "Nakamura", "O'Brien", "Haddad",
        "Johansson", "Rossi", "伟", "Novak", "Dubois", "Silva", "Berg", "Kim", "Costa", "Ali",
        "Meyer", "Chen")
TITLES = {
    "Hardware": ["Laptop will not power on", "Monitor flickers on {host}", "Printer {prn} jams on every job",
                 "Docking station not detecting screens", "Keyboard missing keys", "[URGENT] Server {host} fans loud"],
    "Software": ["Outlook keeps asking for password", "Excel crashes opening budget.xlsx",
                 "Install request: Visio for {user}", "Teams camera not working", "Update failed on {host}"],
    "Network": ["VPN down from home office", "Wi-Fi drops in meeting room 3", "Slow file share on {host}",
                "Cannot reach intranet", "Switch {prn} port flapping"],
    "Access": ["Password reset for {user}", "Access to Finance share", "Account locked after holiday",
               "New starter needs accounts", "MFA token lost"],
    "General": ["Question about the new laptop policy", "Move desk equipment to 2nd floor",
                "Request a loaner laptop", "Toner order for Sales", "Zoë's welcome pack (新员工) — مرحبا"],
}
STOCK = (("USB-C charger 65W", 24, "39.90", 10), ("Toner HP 26A", 6, "89.00", 8),
         ("Keyboard, US layout", 15, "24.50", 5), ("Mouse, wireless", 30, "19.99", 10),
         ("HDMI cable 2m", 40, "7.50", 15), ("DisplayPort cable 2m", 22, "9.90", 10),
         ("Laptop bag", 9, "35.00", 5), ("Headset, USB", 12, "59.00", 6),
         ("SSD 1TB", 5, "79.00", 4), ("RAM 16GB DDR4 SODIMM", 8, "45.00", 4),
         ("Ethernet cable Cat6 3m", 60, "4.20", 20), ("Webcam 1080p", 3, "49.00", 4),
         ("Docking station USB-C", 4, "149.00", 3), ("Power strip 6-way", 14, "18.00", 5),
         ("Paper A4, box", 2, "29.00", 5))


def demo_loaded() -> bool:
    return User.select().where(User.username == "admin").exists()


def seed_demo(actor: User) -> dict:
    """Load the demo desk. Refuses a database that already has tickets or the demo users."""
    require(actor, "settings.manage")
    if demo_loaded():
        raise ValidationError("the demo data is already loaded")
    if Ticket.select().exists():
        raise ValidationError("the database already has tickets; load demo data only into a new one")
    rng = random.Random(2026)
    now = clock.now()
    hashed = hash_password(DEMO_PASSWORD)  # one hash for every demo account: same password
    with database.atomic():
        with clock.frozen(now - timedelta(days=61)):
            people = _people(actor, rng, hashed)
            assets = _assets(actor, rng, people)
        _tickets(rng, now, people, assets)
    return {"users": len(people["all"]), "tickets": 150}


def _people(actor, rng, hashed) -> dict:
    depts = [inventory.create(actor, "department", {"name": name}) for name in DEPARTMENTS]
    nets = [inventory.create(actor, "network", dict(zip(("name", "cidr", "vlan", "location"), n)))
            for n in NETWORKS]
    made = {"departments": depts, "networks": nets, "requesters": [], "agents": [], "all": []}

    def add(username, role, full_name, dept):
        user = users.create_user(actor, username, role, full_name=full_name, department=dept,
                                 email=f"{username}@example.com", password_hash=hashed)
        made["all"].append(user)
        return user

    made["admin"] = add("admin", "admin", "Ada Admin", depts[3])
    made["supervisor"] = add("supervisor", "supervisor", "Sam Supervisor", depts[3])
    made["agents"] = [add(f"agent{i}", "agent", f"{FIRST[i]} {LAST[i]}", depts[3]) for i in range(1, 6)]
    for i in range(1, 21):
        made["requesters"].append(add(f"user{i}", "requester", f"{FIRST[i - 1]} {LAST[-i]}", depts[i % 3]))
    return made


def _assets(actor, rng, people) -> dict:
    depts, nets = people["departments"], people["networks"]
    systems = []
    for i in range(1, 31):
        kind = "server" if i > 26 else ("laptop" if i % 3 else "desktop")
        net = nets[1] if kind == "server" else nets[0]
        base = "10.20.0." if kind == "server" else "10.10.1."
        owner = None if kind == "server" else people["requesters"][(i - 1) % 20]
        bought = date(2022, 1, 10) + timedelta(days=rng.randint(0, 1000))
        systems.append(inventory.create(actor, "system", {
            "hostname": f"srv-{i:02d}" if kind == "server" else f"ws-{i:03d}",
            "asset_tag": f"AT-{1000 + i}", "type": kind,
            "manufacturer": rng.choice(("Dell", "Lenovo", "HP")),
            "model_name": rng.choice(("Latitude 7440", "ThinkPad T14", "EliteBook 840", "OptiPlex 7010")),
            "serial": f"SN{rng.randint(10**7, 10**8 - 1)}",
            "os": "Debian 12" if kind == "server" else rng.choice(("Windows 11", "Ubuntu 24.04", "macOS 14")),
            "ip": f"{base}{10 + i}", "mac": ":".join(f"{rng.randint(0, 255):02x}" for _ in range(6)),
            "department": depts[3] if kind == "server" else depts[i % 3],
            "network": net, "assigned_user": owner,
            "status": "in repair" if i == 7 else ("in stock" if i == 26 else "in use"),
            "purchase_date": bought, "warranty_end": bought + timedelta(days=3 * 365),
        }))
    kinds = ["printer"] * 8 + ["monitor"] * 16 + ["router"] * 3 + ["switch"] * 6 + ["docking station"] * 7
    peripherals = []
    for i, kind in enumerate(kinds, start=1):
        attached = systems[i % 26] if kind in ("monitor", "docking station") else None
        peripherals.append(inventory.create(actor, "peripheral", {
            "name": f"{kind.title()} {i}", "kind": kind, "asset_tag": f"PR-{2000 + i}",
            "serial": f"PS{rng.randint(10**6, 10**7 - 1)}", "system": attached,
            "department": depts[i % 4],
            "network": nets[1] if kind in ("router", "switch") and i % 2 else nets[0],
            "status": "in use",
        }))
    for name, qty, price, reorder in STOCK:
        inventory.create(actor, "stock", {"name": name, "quantity": qty, "unit_price": price,
                                          "reorder_level": reorder})
    return {"systems": systems, "peripherals": peripherals}


# target status -> the path of statuses that leads there from "new"
PATHS = {
    "new": [], "in_progress": ["in_progress"], "waiting_on_user": ["in_progress", "waiting_on_user"],
    "waiting_on_vendor": ["in_progress", "waiting_on_vendor"], "resolved": ["in_progress", "resolved"],
    "closed": ["in_progress", "resolved", "closed"],
}
STATUS_MIX = ["new"] * 20 + ["in_progress"] * 35 + ["waiting_on_user"] * 12 + \
    ["waiting_on_vendor"] * 8 + ["resolved"] * 30 + ["closed"] * 45


def _tickets(rng, now, people, assets) -> None:
    statuses = STATUS_MIX[:]
    rng.shuffle(statuses)
    categories = list(Category.select().order_by(Category.name))
    for i, status in enumerate(statuses):
        created = now - timedelta(minutes=rng.randint(30, 60 * 24 * 60))
        span = (now - created) / (len(PATHS[status]) + 4)  # the last step lands before now
        moments = iter(created + span * (k + 1) for k in range(len(PATHS[status]) + 3))
        category = rng.choice(categories)
        requester = rng.choice(people["requesters"])
        agent = people["agents"][i % 5]
        system = rng.choice(assets["systems"])
        title = rng.choice(TITLES[category.name]).format(
            host=system.hostname, prn=rng.choice(assets["peripherals"]).asset_tag, user=requester.username)
        with clock.frozen(created):
            ticket = tickets.create(
                requester, title,
                f"Reported by {requester.full_name}.\n\nSteps so far: restarted, still failing.",
                category=category, impact=rng.randint(1, 3), urgency=rng.randint(1, 3),
            )
        if i % 4 == 0:
            with clock.frozen(created):
                ticket = tickets.update(agent, ticket.id, ticket.version, system=system.id)
        if status == "new" and i % 2:
            continue
        with clock.frozen(next(moments)):
            ticket = tickets.assign(agent, ticket.id, ticket.version, agent)
        with clock.frozen(next(moments)):
            tickets.comment(agent, ticket.id, "Looking into it now. Can you tell me when it started?")
        with clock.frozen(next(moments)):
            tickets.comment(requester, ticket.id, "It started this morning after the update.")
            if i % 3 == 0:
                tickets.comment(agent, ticket.id, "Known issue with the driver, see KB-42.", internal=True)
        for step in PATHS[status]:
            with clock.frozen(next(moments)):
                note = "Replaced the driver; confirmed working with the user." if step == "resolved" else None
                ticket = tickets.change_status(agent, ticket.id, ticket.version, step, note)


BULK_FIELDS = (
    Ticket.title, Ticket.description, Ticket.category, Ticket.impact, Ticket.urgency,
    Ticket.priority, Ticket.status, Ticket.requester, Ticket.assignee, Ticket.created_at,
    Ticket.updated_at, Ticket.response_due, Ticket.resolution_due, Ticket.resolved_at,
    Ticket.resolution_note,
)
WORDS = ("printer", "vpn", "laptop", "outlook", "wifi", "password", "screen", "server", "disk",
         "slow", "crash", "error", "network", "access", "share", "update", "battery", "license")


def seed_bulk(actor: User, count: int, batch: int = 2000, progress=None) -> int:
    """Insert ``count`` synthetic tickets fast (no per-ticket history), for benchmarks."""
    require(actor, "settings.manage")
    if count < 1:
        raise ValidationError("the number of tickets must be at least 1")
    rng = random.Random(count)
    now = clock.now()
    requesters = [u.id for u in User.select(User.id).where(User.role == "requester")] or [actor.id]
    agents = [u.id for u in User.select(User.id).where(User.role.in_(("agent", "supervisor")))]
    categories = [c.id for c in Category.select(Category.id)]
    statuses = ("new", "in_progress", "waiting_on_user", "waiting_on_vendor", "resolved", "closed")
    weights = (5, 10, 3, 2, 10, 70)
    done = 0
    while done < count:
        rows = []
        for _ in range(min(batch, count - done)):
            impact, urgency = rng.randint(1, 3), rng.randint(1, 3)
            priority = tickets.PRIORITY_MATRIX[(impact, urgency)]
            created = now - timedelta(seconds=rng.randint(60, 3 * 365 * 86400))
            status = rng.choices(statuses, weights)[0]
            updated = min(now, created + timedelta(seconds=rng.randint(60, 20 * 86400)))
            response_due, resolution_due = tickets.due_times(created, priority)
            resolved = updated if status in ("resolved", "closed") else None
            words = " ".join(rng.sample(WORDS, 3))
            rows.append((
                f"{words.capitalize()} issue", f"Synthetic ticket about {words}.",
                rng.choice(categories), impact, urgency, priority, status, rng.choice(requesters),
                rng.choice(agents) if agents and status != "new" else None, created, updated,
                response_due, resolution_due, resolved, "Fixed." if resolved else None,
            ))
        _insert_batch(rows)
        done += len(rows)
        if progress:
            progress(done, count)
    _record_bulk(actor, count)
    optimize(full=True)  # a million new rows: the planner must learn of them before the next query
    return count


@transactional
def _insert_batch(rows: list[tuple]) -> None:
    Ticket.insert_many(rows, fields=BULK_FIELDS).execute()


@transactional
def _record_bulk(actor: User, count: int) -> None:
    audit.record(actor, "seed", "ticket", None, f"generated {count} synthetic tickets")
