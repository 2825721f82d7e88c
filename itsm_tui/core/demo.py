"""Demo data (deterministic, made through the services) and bulk tickets, inventory and log
entries for benchmarks."""

from __future__ import annotations

import ipaddress
import json
import random
from datetime import date, timedelta

from peewee import fn

from itsm_tui.core import clock
from itsm_tui.core.errors import ValidationError
from itsm_tui.core.inventory import service as inventory
from itsm_tui.core.people import users
from itsm_tui.core.people.auth import hash_password
from itsm_tui.core.people.permissions import require
from itsm_tui.core.store import audit
from itsm_tui.core.store.db import database, is_mysql, optimize, transactional
from itsm_tui.core.store.models import (
    ASSET_STATUSES,
    STATUSES,
    AuditEntry,
    Category,
    Department,
    Network,
    Peripheral,
    StockItem,
    System,
    Ticket,
    User,
)
from itsm_tui.core.store.natural import natural_key
from itsm_tui.core.tickets import links, macros, sla, tags, teams
from itsm_tui.core.tickets import service as tickets
from itsm_tui.core.tickets.rules import PRIORITY_MATRIX

DEMO_PASSWORD = "itsm-demo-pass"
DEPARTMENTS = ("Finance", "Engineering", "Sales", "Operations")
NETWORKS = (
    ("Office LAN", "10.10.0.0/22", 10, "HQ, floors 1-3"),
    ("Datacenter", "10.20.0.0/24", 20, "Server room B"),
    ("Guest Wi-Fi", "192.168.50.0/24", 50, "HQ, all floors"),
)
FIRST = (
    "Anna",
    "Ben",
    "Chloé",
    "Dmitri",
    "Eva",
    "Farid",
    "Grace",
    "Hiro",
    "Ingrid",
    "Jonas",
    "Zoë",
    "Liam",
    "Maya",
    "Nikolai",
    "Olga",
    "Pedro",
    "Qiu",
    "Rania",
    "Sven",
    "Wang",
)
LAST = (
    "Smith",
    "Müller",
    "García",
    "Kowalski",
    "Łukasz",
    "Nakamura",
    "O'Brien",
    "Haddad",
    "Johansson",
    "Rossi",
    "伟",
    "Novak",
    "Dubois",
    "Silva",
    "Berg",
    "Kim",
    "Costa",
    "Ali",
    "Meyer",
    "Chen",
)
TITLES = {
    "Hardware": [
        "Laptop will not power on",
        "Monitor flickers on {host}",
        "Printer {printer} jams on every job",
        "Docking station not detecting screens",
        "Keyboard missing keys",
        "[URGENT] Server {host} fans loud",
    ],
    "Software": [
        "Outlook keeps asking for password",
        "Excel crashes opening budget.xlsx",
        "Install request: Visio for {user}",
        "Teams camera not working",
        "Update failed on {host}",
    ],
    "Network": [
        "VPN down from home office",
        "Wi-Fi drops in meeting room 3",
        "Slow file share on {host}",
        "Cannot reach intranet",
        "Switch {switch} port flapping",
    ],
    "Access": [
        "Password reset for {user}",
        "Access to Finance share",
        "Account locked after holiday",
        "New starter needs accounts",
        "MFA token lost",
    ],
    "General": [
        "Question about the new laptop policy",
        "Move desk equipment to 2nd floor",
        "Request a loaner laptop",
        "Toner order for Sales",
        "Zoë's welcome pack (新员工) — مرحبا",
    ],
}
STOCK = (
    ("USB-C charger 65W", 24, "39.90", 10),
    ("Toner HP 26A", 6, "89.00", 8),
    ("Keyboard, US layout", 15, "24.50", 5),
    ("Mouse, wireless", 30, "19.99", 10),
    ("HDMI cable 2m", 40, "7.50", 15),
    ("DisplayPort cable 2m", 22, "9.90", 10),
    ("Laptop bag", 9, "35.00", 5),
    ("Headset, USB", 12, "59.00", 6),
    ("SSD 1TB", 5, "79.00", 4),
    ("RAM 16GB DDR4 SODIMM", 8, "45.00", 4),
    ("Ethernet cable Cat6 3m", 60, "4.20", 20),
    ("Webcam 1080p", 3, "49.00", 4),
    ("Docking station USB-C", 4, "149.00", 3),
    ("Power strip 6-way", 14, "18.00", 5),
    ("Paper A4, box", 2, "29.00", 5),
)


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
            desk = _teams(actor, people)
        _tickets(rng, now, people, assets, desk)
        with clock.frozen(now - timedelta(minutes=15)):
            _teamwork(actor, people, desk)
    return {"users": len(people["all"]), "tickets": Ticket.select().count()}


def _people(actor, rng, hashed) -> dict:
    depts = [inventory.create(actor, "department", {"name": name}) for name in DEPARTMENTS]
    nets = [
        inventory.create(actor, "network", dict(zip(("name", "cidr", "vlan", "location"), n)))
        for n in NETWORKS
    ]
    made = {"departments": depts, "networks": nets, "requesters": [], "agents": [], "all": []}

    def add(username, role, full_name, dept):
        user = users.create_user(
            actor,
            username,
            role,
            full_name=full_name,
            department=dept,
            email=f"{username}@example.com",
            password_hash=hashed,
        )
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
        systems.append(
            inventory.create(
                actor,
                "system",
                {
                    "hostname": f"srv-{i:02d}" if kind == "server" else f"ws-{i:03d}",
                    "asset_tag": f"AT-{1000 + i}",
                    "type": kind,
                    "manufacturer": rng.choice(("Dell", "Lenovo", "HP")),
                    "model_name": rng.choice(
                        ("Latitude 7440", "ThinkPad T14", "EliteBook 840", "OptiPlex 7010")
                    ),
                    "serial": f"SN{rng.randint(10**7, 10**8 - 1)}",
                    "os": "Debian 12"
                    if kind == "server"
                    else rng.choice(("Windows 11", "Ubuntu 24.04", "macOS 14")),
                    "ip": f"{base}{10 + i}",
                    "mac": ":".join(f"{rng.randint(0, 255):02x}" for _ in range(6)),
                    "department": depts[3] if kind == "server" else depts[i % 3],
                    "network": net,
                    "assigned_user": owner,
                    "status": "in repair" if i == 7 else ("in stock" if i == 26 else "in use"),
                    "purchase_date": bought,
                    "warranty_end": bought + timedelta(days=3 * 365),
                },
            )
        )
    kinds = ["printer"] * 8 + ["monitor"] * 16 + ["router"] * 3 + ["switch"] * 6 + ["docking station"] * 7
    peripherals = []
    for i, kind in enumerate(kinds, start=1):
        attached = systems[i % 26] if kind in ("monitor", "docking station") else None
        peripherals.append(
            inventory.create(
                actor,
                "peripheral",
                {
                    "name": f"{kind.title()} {i}",
                    "kind": kind,
                    "asset_tag": f"PR-{2000 + i}",
                    "serial": f"PS{rng.randint(10**6, 10**7 - 1)}",
                    "system": attached,
                    # attached: where its system is; free-standing: its own place
                    "department": attached.department if attached else depts[i % 4],
                    "network": attached.network
                    if attached
                    else nets[1]
                    if kind in ("router", "switch") and i % 2
                    else nets[0],
                    "status": "in use",
                },
            )
        )
    for name, qty, price, reorder in STOCK:
        inventory.create(
            actor, "stock", {"name": name, "quantity": qty, "unit_price": price, "reorder_level": reorder}
        )
    return {"systems": systems, "peripherals": peripherals}


# target status -> the path of statuses that leads there from "new"
PATHS = {
    "new": [],
    "in_progress": ["in_progress"],
    "waiting_on_user": ["in_progress", "waiting_on_user"],
    "waiting_on_vendor": ["in_progress", "waiting_on_vendor"],
    "resolved": ["in_progress", "resolved"],
    "closed": ["in_progress", "resolved", "closed"],
}
STATUS_MIX = (
    ["new"] * 20
    + ["in_progress"] * 35
    + ["waiting_on_user"] * 12
    + ["waiting_on_vendor"] * 8
    + ["resolved"] * 30
    + ["closed"] * 45
)


def _age_minutes(rng, status: str) -> int:
    """Finished tickets spread over two months; open work is mostly from the last few days, as
    on a desk that keeps up, so the demo shows every SLA state rather than a wall of breaches."""
    if status in ("resolved", "closed"):
        return rng.randint(60 * 24, 60 * 24 * 60)
    if rng.random() < 0.8:
        return rng.randint(20, 60 * 24 * 4)
    return rng.randint(60 * 24 * 4, 60 * 24 * 21)


# team -> (its agents by number, the categories whose tickets it takes)
TEAMS = {
    "Service desk": ((1, 2), ("Software", "Access", "General")),
    "Network": ((3, 1), ("Network",)),
    "Field support": ((4, 5), ("Hardware",)),
}
TAGS = {"vpn": "VPN", "printer": "Printer", "outlook": "Outlook", "password": "Password", "urgent": "URGENT"}


def _teams(actor, people) -> dict:
    """The demo teams; agent1 is in two (Service desk and Network), as a first-line agent is.
    Returns {category name: (team, its members)}."""
    by_category = {}
    for name, (numbers, categories) in TEAMS.items():
        team = teams.add(actor, name)
        for number in numbers:
            teams.add_member(actor, team, f"agent{number}")
        members = [people["agents"][n - 1] for n in numbers]
        by_category.update({category: (team, members) for category in categories})
    return by_category


def _teamwork(actor, people, desk) -> None:
    """Macros (global and per team), tags by title, a parent with a child and a merged
    duplicate: what a new user finds to try on the demo desk."""
    network, field = desk["Network"][0], desk["Hardware"][0]
    hello = "Hello {requester_first},\n\n"
    macros.create(
        actor,
        "Acknowledge",
        hello + "Thanks for reporting this; {agent} is on it ({number}).",
        fields=macros.Fields(status="in_progress", assignee="me"),
    )
    macros.create(
        actor,
        "Ask for details",
        hello + "To go on with {number} we need a little more: when did it start, and what did "
        "you try? A screenshot of any error helps.",
        fields=macros.Fields(status="waiting_on_user"),
    )
    macros.create(
        actor,
        "Resolve: fixed, please confirm",
        "Fixed on our side. Please reopen {number} by replying if it comes back.",
        fields=macros.Fields(status="resolved"),
    )
    macros.create(
        actor,
        "Escalate to Network",
        "Moved to the network team.",
        internal=True,
        fields=macros.Fields(team=network.name, priority=2),
    )
    macros.create(
        actor,
        "VPN: reinstall the client",
        hello + "Please reinstall the VPN client from the portal and sign in again; that fixes "
        "this in most cases. Tell us if it does not.",
        team=network,
        fields=macros.Fields(status="waiting_on_user"),
    )
    macros.create(
        actor,
        "Book a desk visit",
        hello + "A technician will come to your desk tomorrow morning for {number}.",
        team=field,
        fields=macros.Fields(status="in_progress", assignee="me"),
    )
    agent = people["agents"][0]
    for ticket in Ticket.select().order_by(Ticket.id):
        found = [tag for tag, word in TAGS.items() if word.lower() in ticket.title.lower()]
        if found:
            tags.change(agent, ticket.id, add=found)
    open_network = list(
        Ticket.select()
        .where((Ticket.team == network.id) & (Ticket.status.in_(("new", "in_progress"))))
        .order_by(Ticket.id)
    )
    if len(open_network) > 1:  # an outage (the parent) and one of its symptoms
        links.link(people["agents"][2], open_network[0].id, open_network[1].id, "parent")
    first = open_network[-1] if open_network else Ticket.select().order_by(Ticket.id).first()
    again = tickets.create(
        first.requester, first.title, "Sent again: is anyone looking at this?", category=first.category
    )
    again = teams.set_team(people["agents"][2], again.id, again.version, first.team)
    links.merge(people["agents"][2], again.id, again.version, first.id)


def _tickets(rng, now, people, assets, desk) -> None:
    statuses = STATUS_MIX[:]
    rng.shuffle(statuses)
    categories = list(Category.select().order_by(Category.name))
    for i, status in enumerate(statuses):
        created = now - timedelta(minutes=_age_minutes(rng, status))
        # Agents answer within minutes to hours; the last step always lands before now.
        span = min((now - created) / (len(PATHS[status]) + 4), timedelta(minutes=rng.randint(5, 180)))
        moments = iter(created + span * (k + 1) for k in range(len(PATHS[status]) + 3))
        category = rng.choice(categories)
        requester = rng.choice(people["requesters"])
        team, members = desk[category.name]
        agent = members[i % len(members)]
        system = rng.choice(assets["systems"])
        template, picked = rng.choice(TITLES[category.name]), rng.choice(assets["peripherals"])
        title = template.format(
            host=system.hostname,
            user=requester.username,  # a tag of the named kind
            printer=_of_kind(assets, "printer", picked),
            switch=_of_kind(assets, "switch", picked),
        )
        with clock.frozen(created):
            ticket = tickets.create(
                requester,
                title,
                f"Reported by {requester.full_name}.\n\nSteps so far: restarted, still failing.",
                category=category,
                impact=rng.randint(1, 3),
                urgency=rng.randint(1, 3),
            )
            ticket = teams.set_team(agent, ticket.id, ticket.version, team)
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


def _of_kind(assets, kind: str, picked) -> str:
    """The asset tag of a peripheral of ``kind``, chosen by the peripheral ``picked`` at random."""
    matching = [p for p in assets["peripherals"] if p.kind == kind]
    return matching[picked.id % len(matching)].asset_tag


BULK_FIELDS = (
    Ticket.title,
    Ticket.description,
    Ticket.category,
    Ticket.impact,
    Ticket.urgency,
    Ticket.priority,
    Ticket.status,
    Ticket.requester,
    Ticket.assignee,
    Ticket.created_at,
    Ticket.updated_at,
    Ticket.response_due,
    Ticket.resolution_due,
    Ticket.resolved_at,
    Ticket.resolution_note,
    Ticket.response_risk_at,
    Ticket.resolution_risk_at,
    Ticket.sla_paused_at,
    Ticket.first_response_at,
    Ticket.response_met,
    Ticket.resolution_met,
)
WORDS = (
    "printer",
    "vpn",
    "laptop",
    "outlook",
    "wifi",
    "password",
    "screen",
    "server",
    "disk",
    "slow",
    "crash",
    "error",
    "network",
    "access",
    "share",
    "update",
    "battery",
    "license",
)


MAX_GENERATED = 10_000_000  # per run: ten times the benchmarks' desk


def _check_count(count: int, label: str) -> None:
    if not 1 <= count <= MAX_GENERATED:
        raise ValidationError(f"the number of {label} must be from 1 to {MAX_GENERATED:,}")


def seed_bulk(actor: User, count: int, batch: int = 2000, progress=None) -> int:
    """Insert ``count`` synthetic tickets fast (no per-ticket history), for benchmarks."""
    require(actor, "settings.manage")
    _check_count(count, "tickets")
    rng = random.Random(count)
    now = clock.now()
    requesters = [u.id for u in User.select(User.id).where(User.role == "requester")] or [actor.id]
    agents = [u.id for u in User.select(User.id).where(User.role.in_(("agent", "supervisor")))]
    categories = [c.id for c in Category.select(Category.id)]
    statuses = ("new", "in_progress", "waiting_on_user", "waiting_on_vendor", "resolved", "closed")
    weights = (5, 10, 3, 2, 10, 70)
    cal, pols = sla.calendar(), sla.policies()
    done = 0
    while done < count:
        rows = []
        for _ in range(min(batch, count - done)):
            impact, urgency = rng.randint(1, 3), rng.randint(1, 3)
            priority = PRIORITY_MATRIX[(impact, urgency)]
            created = now - timedelta(seconds=rng.randint(60, 3 * 365 * 86400))
            status = rng.choices(statuses, weights)[0]
            updated = min(now, created + timedelta(seconds=rng.randint(60, 20 * 86400)))
            due = sla.targets(created, priority, 0, cal, pols)
            resolved = updated if status in ("resolved", "closed") else None
            responded = None if status == "new" else min(updated, created + (updated - created) / 4)
            words = " ".join(rng.sample(WORDS, 3))
            rows.append(
                (
                    f"{words.capitalize()} issue",
                    f"Synthetic ticket about {words}.",
                    rng.choice(categories),
                    impact,
                    urgency,
                    priority,
                    status,
                    rng.choice(requesters),
                    rng.choice(agents) if agents and status != "new" else None,
                    created,
                    updated,
                    due["response_due"],
                    due["resolution_due"],
                    resolved,
                    "Fixed." if resolved else None,
                    due["response_risk_at"],
                    due["resolution_risk_at"],
                    updated if status in sla.PAUSED + sla.STOPPED else None,
                    responded,
                    responded <= due["response_due"] if resolved else None,
                    resolved <= due["resolution_due"] if resolved else None,
                )
            )
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


# ---------------------------------------------------------------- bulk inventory

# Big networks made for the bulk systems (a /12 holds about a million addresses each).
BULK_NETWORKS = (
    ("Bulk campus A", "10.64.0.0/12", 640, "Synthetic data"),
    ("Bulk campus B", "10.80.0.0/12", 641, "Synthetic data"),
    ("Bulk campus C", "10.96.0.0/12", 642, "Synthetic data"),
    ("Bulk campus D", "10.112.0.0/12", 643, "Synthetic data"),
)
BULK_SYSTEM_FIELDS = (
    System.hostname,
    System.asset_tag,
    System.type,
    System.manufacturer,
    System.model_name,
    System.serial,
    System.os,
    System.ip,
    System.mac,
    System.department,
    System.network,
    System.assigned_user,
    System.status,
    System.purchase_date,
    System.warranty_end,
    System.created_at,
    System.updated_at,
    System.hostname_key,
    System.asset_tag_key,
)
BULK_PERIPHERAL_FIELDS = (
    Peripheral.name,
    Peripheral.kind,
    Peripheral.asset_tag,
    Peripheral.serial,
    Peripheral.system,
    Peripheral.department,
    Peripheral.network,
    Peripheral.status,
    Peripheral.created_at,
    Peripheral.updated_at,
    Peripheral.name_key,
    Peripheral.asset_tag_key,
)
SYSTEM_MIX = (("laptop", 40), ("desktop", 30), ("virtual machine", 15), ("server", 10), ("other", 5))
STATUS_WEIGHTS = (80, 10, 5, 5)  # in use, in stock, in repair, retired
MODELS = {
    "laptop": ("Latitude 7440", "ThinkPad T14", "EliteBook 840", "MacBook Pro 14"),
    "desktop": ("OptiPlex 7010", "ThinkCentre M90", "EliteDesk 800"),
    "server": ("PowerEdge R660", "ProLiant DL360", "ThinkSystem SR630"),
    "virtual machine": ("VMware VM", "KVM guest", "Hyper-V VM"),
    "other": ("Raspberry Pi 5", "NUC 13"),
}
OS_BY_TYPE = {
    "laptop": ("Windows 11", "Ubuntu 24.04", "macOS 14"),
    "desktop": ("Windows 11", "Ubuntu 24.04"),
    "server": ("Debian 12", "RHEL 9", "Windows Server 2022"),
    "virtual machine": ("Debian 12", "Ubuntu 24.04", "Windows Server 2022"),
    "other": ("Debian 12",),
}
ATTACHED_KINDS = ("monitor", "docking station", "phone")  # sit on a desk, with a system
LOOSE_KINDS = ("printer", "scanner", "switch", "access point", "router", "ups")


def seed_bulk_assets(actor: User, systems: int, batch: int = 2000, progress=None) -> dict:
    """Insert ``systems`` synthetic systems and about one peripheral per three, fast (no
    per-record history), for benchmarks. Systems are spread over the existing departments
    (a few are created when there are none) and over big networks created for them, with
    IPs inside each network; one in twenty has no network and no IP."""
    require(actor, "settings.manage")
    _check_count(systems, "systems")
    rng = random.Random(systems)
    now = clock.now()
    depts = [d.id for d in Department.select(Department.id).order_by(Department.id)]
    if not depts:
        depts = [inventory.create(actor, "department", {"name": name}).id for name in DEPARTMENTS]
    nets = []
    for name, cidr, vlan, location in BULK_NETWORKS:
        net = Network.get_or_none(Network.name == name) or inventory.create(
            actor, "network", {"name": name, "cidr": cidr, "vlan": vlan, "location": location}
        )
        nets.append((net.id, ipaddress.ip_network(net.cidr)))
    owners = [u.id for u in User.select(User.id).where(User.role == "requester")]
    base = System.select(fn.MAX(System.id)).scalar() or 0  # numbers past every system: unique
    types = [t for t, _ in SYSTEM_MIX]
    type_weights = [w for _, w in SYSTEM_MIX]
    done = peripherals = 0
    while done < systems:
        size = min(batch, systems - done)
        first = base + done + 1
        rows, loose = [], []
        for j in range(first, first + size):
            kind = rng.choices(types, type_weights)[0]
            net_id, net = nets[j % len(nets)] if j % 20 else (None, None)
            ip = None
            if net is not None:
                hosts = net.num_addresses - 2
                ip = str(net.network_address + 1 + (j // len(nets)) % hosts)
            bought = now.date() - timedelta(days=rng.randint(0, 6 * 365))
            owner = (
                rng.choice(owners)
                if owners and kind in ("laptop", "desktop") and rng.random() < 0.8
                else None
            )
            hostname, tag = f"bulk-{j:07d}", f"BA-{j:07d}"
            rows.append(
                (
                    hostname,
                    tag,
                    kind,
                    rng.choice(("Dell", "Lenovo", "HP", "Apple")),
                    rng.choice(MODELS[kind]),
                    f"SN{rng.randint(10**9, 10**10 - 1)}",
                    rng.choice(OS_BY_TYPE[kind]),
                    ip,
                    "02:" + ":".join(f"{(j >> s) & 0xFF:02x}" for s in (32, 24, 16, 8, 0)),
                    depts[j % len(depts)] if j % 17 else None,
                    net_id,
                    owner,
                    rng.choices(ASSET_STATUSES, STATUS_WEIGHTS)[0],
                    bought,
                    bought + timedelta(days=3 * 365),
                    now,
                    now,
                    natural_key(hostname),
                    natural_key(tag),
                )
            )
            if j % 3 == 0:
                loose.append((j, kind))
        peripherals += _insert_assets(rows, loose, first, first + size - 1, nets, depts, rng, now)
        done += size
        if progress:
            progress(done, systems)
    _record_bulk_assets(actor, systems, peripherals)
    if is_mysql():  # db.optimize covers the ticket and log tables only
        database.execute_sql("ANALYZE TABLE system, peripheral")
    optimize(full=True)
    return {"systems": systems, "peripherals": peripherals}


@transactional
def _insert_assets(rows, wanted, first: int, last: int, nets, depts, rng, now) -> int:
    System.insert_many(rows, fields=BULK_SYSTEM_FIELDS).execute()
    ids = dict(
        System.select(System.hostname, System.id)
        .where(System.hostname.between(f"bulk-{first:07d}", f"bulk-{last:07d}"))
        .tuples()
    )
    placed = {row[0]: (row[9], row[10]) for row in rows}  # hostname -> (department, network)
    peripherals = []
    for j, system_kind in wanted:
        attached = system_kind in ("laptop", "desktop") and rng.random() < 0.6
        kind = rng.choice(ATTACHED_KINDS if attached else LOOSE_KINDS)
        name, tag = f"{kind.title()} {j}", f"BP-{j:07d}"
        # an attached peripheral sits where its system sits (inventory._placed_with)
        department, network = (
            placed[f"bulk-{j:07d}"] if attached else (depts[j % len(depts)], nets[j % len(nets)][0])
        )
        peripherals.append(
            (
                name,
                kind,
                tag,
                f"PS{rng.randint(10**7, 10**8 - 1)}",
                ids[f"bulk-{j:07d}"] if attached else None,
                department,
                network,
                rng.choices(ASSET_STATUSES, STATUS_WEIGHTS)[0],
                now,
                now,
                natural_key(name),
                natural_key(tag),
            )
        )
    if peripherals:
        Peripheral.insert_many(peripherals, fields=BULK_PERIPHERAL_FIELDS).execute()
    return len(peripherals)


@transactional
def _record_bulk_assets(actor: User, systems: int, peripherals: int) -> None:
    audit.record(
        actor, "seed", "system", None, f"generated {systems} synthetic systems and {peripherals} peripherals"
    )


# ---------------------------------------------------------------- bulk activity log

BULK_LOG_FIELDS = (
    AuditEntry.at,
    AuditEntry.actor,
    AuditEntry.action,
    AuditEntry.entity_type,
    AuditEntry.entity_id,
    AuditEntry.entity_version,
    AuditEntry.summary,
    AuditEntry.changes,
)
# (what, weight): the share of each kind of entry in a desk's log
LOG_MIX = (
    ("ticket_create", 12),
    ("ticket_update", 30),
    ("comment", 12),
    ("note", 5),
    ("system_create", 2),
    ("system_update", 6),
    ("peripheral_update", 2),
    ("stock_adjust", 2),
    ("login", 22),
    ("login_failed", 5),
    ("user_update", 2),
)


def seed_bulk_log(actor: User, entries: int, batch: int = 5000, progress=None) -> int:
    """Insert ``entries`` synthetic audit entries spread over the last year, oldest first (so
    ids grow with time, as in a real log): ticket and inventory creates and updates, comments,
    logins and some failed logins, by the existing users on the existing tickets and systems
    (made-up ids when there are none). One more entry records the seeding itself."""
    require(actor, "settings.manage")
    _check_count(entries, "log entries")
    rng = random.Random(entries)
    now = clock.now()
    people = [
        (u.id, u.username, u.role)
        for u in User.select(User.id, User.username, User.role).where(User.username != "system")
    ]
    people = people or [(actor.id, actor.username, actor.role)]
    staff = [p for p in people if p[2] != "requester"] or people
    admins = [p for p in people if p[2] == "admin"] or [(actor.id, actor.username, actor.role)]
    tickets_span = _id_span(Ticket)
    systems_span = _id_span(System)
    peripherals_span = _id_span(Peripheral)
    stock_span = _id_span(StockItem)
    kinds = [k for k, _ in LOG_MIX]
    weights = [w for _, w in LOG_MIX]
    start = now - timedelta(days=365)
    step = timedelta(days=365) / entries
    done = 0
    while done < entries:
        rows = []
        for k in range(done, min(entries, done + batch)):
            at = min(now, start + step * k + timedelta(seconds=rng.randint(0, 59))).replace(microsecond=0)
            what = rng.choices(kinds, weights)[0]
            rows.append(
                _log_row(
                    rng,
                    what,
                    at,
                    people,
                    staff,
                    admins,
                    tickets_span,
                    systems_span,
                    peripherals_span,
                    stock_span,
                )
            )
        _insert_log(rows)
        done += len(rows)
        if progress:
            progress(done, entries)
    _record_bulk_log(actor, entries)
    optimize(full=True)
    return entries


def _id_span(model) -> tuple[int, int]:
    low, high = model.select(fn.MIN(model.id), fn.MAX(model.id)).tuples().first() or (None, None)
    return (low, high) if low is not None and high is not None else (1, 1000)


def _log_row(
    rng, what, at, people, staff, admins, tickets_span, systems_span, peripherals_span, stock_span
) -> tuple:
    def changes(values: dict) -> str:
        return json.dumps(values, ensure_ascii=False, sort_keys=True)

    if what.startswith("ticket") or what in ("comment", "note"):
        ticket = rng.randint(*tickets_span)
        number = f"INC{ticket:06d}"
        if what == "ticket_create":
            who = rng.choice(people)
            title = f"{' '.join(rng.sample(WORDS, 3)).capitalize()} issue"
            return (
                at,
                who[0],
                "create",
                "ticket",
                ticket,
                1,
                "created ticket",
                changes(
                    {"title": [None, title], "status": [None, "new"], "priority": [None, rng.randint(1, 4)]}
                ),
            )
        who = rng.choice(staff)
        if what in ("comment", "note"):
            return (at, who[0], what, "ticket", ticket, None, f"{what} on {number}", None)
        field = rng.choice(("status", "status", "assignee", "priority", "category"))
        if field == "status":
            old, new = rng.sample(STATUSES, 2)
        elif field == "assignee":
            old, new = None, rng.choice(staff)[0]
        else:
            old, new = rng.sample(range(1, 5), 2)
        return (
            at,
            who[0],
            "update",
            "ticket",
            ticket,
            rng.randint(2, 9),
            f"updated {number}: {field}",
            changes({field: [old, new]}),
        )
    if what.startswith("system"):
        system = rng.randint(*systems_span)
        who = rng.choice(staff)
        if what == "system_create":
            return (
                at,
                who[0],
                "create",
                "system",
                system,
                1,
                f"created system #{system}",
                changes({"status": [None, "in use"]}),
            )
        old, new = rng.sample(ASSET_STATUSES, 2)
        return (
            at,
            who[0],
            "update",
            "system",
            system,
            rng.randint(2, 6),
            f"updated system #{system}: status",
            changes({"status": [old, new]}),
        )
    if what == "peripheral_update":
        peripheral = rng.randint(*peripherals_span)
        return (
            at,
            rng.choice(staff)[0],
            "update",
            "peripheral",
            peripheral,
            rng.randint(2, 5),
            f"updated peripheral #{peripheral}: status",
            changes({"status": ["in use", "in repair"]}),
        )
    if what == "stock_adjust":
        item = rng.randint(*stock_span)
        delta = rng.choice((-3, -2, -1, -1, 5, 10))
        before = rng.randint(5, 50)
        return (
            at,
            rng.choice(staff)[0],
            "stock_adjust",
            "stock",
            item,
            rng.randint(2, 40),
            f"stock item #{item}: {delta:+d} (synthetic)",
            changes({"quantity": [before, before + delta], "reason": [None, "synthetic"]}),
        )
    if what == "login":
        who = rng.choice(people)
        return (at, who[0], "login", "user", who[0], None, f"login succeeded for {who[1]}", None)
    if what == "login_failed":
        if rng.random() < 0.3:
            name = rng.choice(("admin1", "root", "test", "guest", "jdoe"))
            return (
                at,
                None,
                "login_failed",
                "user",
                None,
                None,
                f"login failed for {name!r}: unknown user",
                None,
            )
        who = rng.choice(people)
        return (
            at,
            None,
            "login_failed",
            "user",
            who[0],
            None,
            f"login failed for {who[1]!r}: bad credentials",
            None,
        )
    admin, who = rng.choice(admins), rng.choice(people)
    return (
        at,
        admin[0],
        "update",
        "user",
        who[0],
        rng.randint(2, 5),
        f"updated user {who[1]}: full_name",
        changes({"full_name": [who[1], who[1].title()]}),
    )


@transactional
def _insert_log(rows: list[tuple]) -> None:
    AuditEntry.insert_many(rows, fields=BULK_LOG_FIELDS).execute()


@transactional
def _record_bulk_log(actor: User, entries: int) -> None:
    audit.record(actor, "seed", "audit", None, f"generated {entries} synthetic log entries")
