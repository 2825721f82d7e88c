"""``itsm-tui user``: add, list and unlock accounts, and set their passwords."""

from __future__ import annotations

import getpass
import sys

from itsm_tui.cli.common import UsageError, print_rows


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
    if sys.stdin is not None and sys.stdin.isatty():
        first = getpass.getpass("Password (12+ characters; empty for none): ")
        if not first:
            return None
        if getpass.getpass("Repeat the password: ") != first:
            from itsm_tui.core.errors import ValidationError

            raise ValidationError("the two passwords differ")
        return first
    return None


HANDLERS = {"user": _user}
