"""``itsm-tui user``: add, edit, list and unlock accounts, and set their passwords."""

from __future__ import annotations

import getpass
import sys

from itsm_tui.cli.common import UsageError, at_terminal, print_rows


def _user(args, actor) -> int:
    from itsm_tui.core.people import users

    if args.user_command == "unlock":
        target = users.by_username(args.username)
        users.unlock(actor, target.id)
        print(f"unlocked {target.username}")
        return 0
    if args.user_command == "password":
        target = users.by_username(args.username)
        password = _read_password(args.password_stdin)
        if not password:
            raise UsageError("type the new password at the prompt, or pass it with --password-stdin")
        users.reset_password(actor, target.id, password)
        print(f"set the password of {target.username}")
        return 0
    if args.user_command == "edit":
        return _edit(args, actor)
    if args.user_command == "add":
        password = _read_password(args.password_stdin)
        user = users.create_user(
            actor,
            args.username,
            args.role,
            full_name=args.full_name,
            password=password,
            email=args.email,
            department=args.department,
        )
        note = "" if password else f" (no password: `itsm-tui user password {user.username}` sets one)"
        print(f"created {user.role} {user.username}{note}")
        return 0
    rows = [
        (u.username, u.full_name, u.role, u.email or "", "active" if u.is_active else "disabled")
        for u in users.list_users(actor, role=args.role)
    ]
    print_rows(("username", "full_name", "role", "email", "state"), rows, args.format)
    return 0


# What ``user edit`` changes (its options' names), in its confirmation's words ("state" as ``user list``).
EDITED = {
    "role": "role",
    "full_name": "full name",
    "email": "email",
    "department": "department",
    "is_active": "state",
}


def _edit(args, actor) -> int:
    """The options given, through ``users.update_user``: it checks the role, keeps the last admin
    one and logs the change."""
    from itsm_tui.core.people import users
    from itsm_tui.core.text import strip_controls

    changes = {field: getattr(args, field) for field in EDITED if getattr(args, field) is not None}
    target = users.by_username(args.username)
    before = _shown(target)
    after = _shown(users.update_user(actor, target.id, target.version, **changes))
    said = [f"{EDITED[f]} {before[f]} → {after[f]}" for f in changes if before[f] != after[f]]
    done = f"updated {target.username}: {', '.join(said)}" if said else "nothing changed: it was so already"
    print(strip_controls(done))
    return 0


def _shown(user) -> dict[str, str]:
    return {
        "role": user.role,
        "full_name": repr(user.full_name),
        "email": user.email or "(none)",
        "department": user.department.name if user.department_id else "(none)",
        "is_active": "active" if user.is_active else "disabled",
    }


def _read_password(from_stdin: bool) -> str | None:
    if from_stdin:
        try:
            line = sys.stdin.readline() if sys.stdin is not None else ""
            line.encode("utf-8")  # bytes the locale could not decode come as lone surrogates
        except UnicodeError:
            raise UsageError("the password on standard input is not UTF-8 text") from None
        if not line:
            raise UsageError("--password-stdin given but standard input is empty or closed")
        return line.rstrip("\r\n")
    if at_terminal():
        first = getpass.getpass("Password (12+ characters; empty for none): ")
        if not first:
            return None
        if getpass.getpass("Repeat the password: ") != first:
            from itsm_tui.core.errors import ValidationError

            raise ValidationError("the two passwords differ")
        return first
    return None


def _check(args) -> None:
    """The command line's own mistakes (exit 2), before the database is opened."""
    if args.user_command == "edit" and all(getattr(args, field) is None for field in EDITED):
        raise UsageError(
            "name what to change: --role, --full-name, --email, --department, --active or --inactive"
        )
    if args.user_command == "password" and not args.password_stdin and not at_terminal():
        raise UsageError("type the new password at the prompt, or pass it with --password-stdin")


HANDLERS = {"user": _user}
CHECKS = {"user": _check}
