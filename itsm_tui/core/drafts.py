"""Drafts: what an operator typed into a form or a comment, kept until it is saved.

A save can fail (the database unreachable, a conflict) and the app itself can die; neither may
cost the operator their text. Forms write their fields here as they are typed and discard them
once saved, so the next time the same form opens (after a retry, a reconnect or a restart) it
comes back filled in. Each draft also carries the form's request key: a retry of a save whose
outcome was unknown sends the same key, and the database writes it once (see ``requests``).

Drafts live on the operator's own side, not in the database (which may be the thing that is
down): one 0600 JSON file per form under ``<data dir>/drafts/<username>/``, replaced in one
step, so a crash mid-write leaves the previous draft whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import uuid
from pathlib import Path

from itsm_tui.core import config

REQUEST_KEY = "_request_key"


def _folder(username: str) -> Path:
    root = config.data_dir()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = root / "drafts" / (re.sub(r"[^A-Za-z0-9_.-]", "_", username).lstrip(".") or "_")
    for part in (folder.parent, folder):
        try:
            part.mkdir(mode=0o700)
        except FileExistsError:
            pass
    return folder


def _path(username: str, key: str) -> Path:
    readable = re.sub(r"[^A-Za-z0-9_-]", "_", key)[:60]
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    return _folder(username) / f"{readable}-{digest}.json"


def save(username: str, key: str, fields: dict) -> None:
    """Keep ``fields`` (JSON-able values) for the form ``key``; its request key stays the same."""
    kept = load(username, key) or {}
    body = {**fields, REQUEST_KEY: kept.get(REQUEST_KEY) or fields.get(REQUEST_KEY) or new_request_key()}
    target = _path(username, key)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".draft-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"key": key, "fields": body}, out, ensure_ascii=False)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(username: str, key: str) -> dict | None:
    """The kept fields of the form ``key``, or None (a damaged file counts as none)."""
    try:
        stored = json.loads(_path(username, key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("key") != key or not isinstance(stored.get("fields"), dict):
        return None
    return stored["fields"]


def request_key(username: str, key: str) -> str:
    """The form's request key: the draft's when there is one, else a new one kept with it."""
    kept = load(username, key)
    if kept and kept.get(REQUEST_KEY):
        return kept[REQUEST_KEY]
    fresh = new_request_key()
    save(username, key, {REQUEST_KEY: fresh})
    return fresh


def discard(username: str, key: str) -> None:
    _path(username, key).unlink(missing_ok=True)


def new_request_key() -> str:
    return str(uuid.uuid4())
