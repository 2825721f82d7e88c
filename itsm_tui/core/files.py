"""Which files the app's dialogs may read and write, and how they write them.

On one's own machine (``mode = "local"``) paths are free, but a dialog never writes to a dot-file
(``~/.bashrc``) or into a dot-folder of the home folder (``~/.ssh/...``), and never replaces a
file unless asked to. In served mode (a shared host reached over SSH, where the app runs as a
service account) each operator has a folder of their own under the data directory:
``exports/<username>/`` for exports and saved attachments, ``uploads/<username>/`` for files to
attach. A typed path is read there (a bare name is enough) and refused when, once its links are
followed, it leaves that folder or passes through a dot-file or dot-folder. A name no file can
have (a NUL, longer than the file system holds) is refused in words. Files are always written
0600 through a temporary file that becomes the target in one step (``os.link`` when nothing may be
replaced, ``os.replace`` otherwise), so a link planted at the target is replaced, never followed,
and a failure leaves nothing behind.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from itsm_tui.core import config
from itsm_tui.core.errors import ValidationError

EXPORTS = "exports"
UPLOADS = "uploads"
KINDS = (EXPORTS, UPLOADS)


class PathRefused(ValidationError):
    """A typed path the policy does not allow; the message says why."""

    def __init__(self, message: str):
        super().__init__(message, "path")


class FileExists(ValidationError):
    """The target exists and replacing it was not confirmed."""

    def __init__(self, message: str):
        super().__init__(message, "path")


NAME_MAX = 255  # bytes in one name on the file systems Linux uses
# private_file writes through ".{name}.XXXXXXXX.part" beside the target: a target's name has
# that much less room
_TEMPORARY = len("..") + 8 + len(".part")


def _typed(text: str, room: int = 0) -> str:
    """``text`` as typed (stripped), or PathRefused when no file can have that name: a NUL, or a
    name longer than the file system holds (``room``: bytes kept for the temporary name)."""
    typed = text.strip()
    if "\x00" in typed:
        raise PathRefused("a file name cannot hold a NUL character")
    longest = NAME_MAX - room
    for part in Path(typed).parts:
        try:
            size = len(os.fsencode(part))
        except UnicodeError:
            raise PathRefused(f"{part!r} holds characters a file name cannot hold") from None
        if size > longest:
            raise PathRefused(f"the name {part[:30]}… is too long: at most {longest} bytes (UTF-8)")
    return typed


def fitting_name(name: str) -> str:
    """``name`` with its stem cut (its extension kept) until a dialog may write it: an
    attachment's name may be 255 characters of up to 4 bytes each."""
    stem, dot, extension = name.rpartition(".")
    if not stem or len(extension) > 16:
        stem, dot, extension = name, "", ""
    while stem and len(os.fsencode(stem + dot + extension)) > NAME_MAX - _TEMPORARY:
        stem = stem[:-1]
    return stem + dot + extension


def served() -> bool:
    return config.settings().served


def own_folder(kind: str, username: str) -> Path:
    """The operator's folder of that kind (made 0700 when missing, its parents too)."""
    if kind not in KINDS:
        raise ValueError(f"unknown folder kind {kind!r}")
    if not username or "/" in username or username.startswith("."):
        raise PathRefused("this account has no folder of its own")
    root = config.data_dir()
    folder = root / kind / username
    for part in (root, root / kind, folder):
        try:
            part.mkdir(mode=0o700)
        except FileExistsError:
            pass
    os.chmod(folder, 0o700)
    return folder


def start_folder(kind: str, username: str) -> Path:
    """Where a dialog starts: the operator's folder when served, else Documents or home."""
    if served():
        return own_folder(kind, username)
    home = Path.home()
    documents = home / "Documents"
    return documents if documents.is_dir() else home


def _inside(folder: Path, text: str) -> Path:
    """The served-mode path for ``text``: within ``folder``, links followed, no dot-part."""
    typed = text.strip()
    candidate = Path(typed) if os.path.isabs(typed) else folder / typed
    real_folder = Path(os.path.realpath(folder))
    real = Path(os.path.realpath(candidate))
    try:
        inner = real.relative_to(real_folder)
    except ValueError:
        raise PathRefused(f"{typed} is outside your folder: use a name inside {folder}") from None
    lexical = Path(os.path.normpath(candidate))
    try:
        lexical_inner = lexical.relative_to(os.path.normpath(folder))
    except ValueError:
        lexical_inner = inner
    if not inner.parts or any(part.startswith(".") for part in (*inner.parts, *lexical_inner.parts)):
        raise PathRefused(f"{typed} is not allowed: use a plain file name inside {folder}")
    if candidate.is_symlink():  # a link inside the folder to another file in it: still refused
        raise PathRefused(f"{typed} is a link: use a plain file inside {folder}")
    return real_folder / inner


def _local(text: str, base: Path | None) -> Path:
    typed = os.path.expanduser(text.strip())
    if base is not None and not os.path.isabs(typed):
        typed = os.path.join(base, typed)
    return Path(os.path.abspath(typed))


def _no_dot_target(path: Path) -> None:
    """Not a dot-file anywhere, nor a file in a dot-folder of the home folder (``~/.ssh/...``,
    ``~/.config/autostart/...``: settings read by other programs)."""
    home = Path.home()
    homes = (home, Path(os.path.realpath(home)))
    for candidate in (path, Path(os.path.realpath(path))):
        inner = [candidate.relative_to(h).parts for h in homes if candidate.is_relative_to(h)]
        if candidate.name.startswith(".") or any(p.startswith(".") for parts in inner for p in parts):
            raise PathRefused(f"{path} is a dot-file (settings read by other programs): choose another name")


def target(
    text: str,
    username: str,
    *,
    kind: str = EXPORTS,
    base: Path | None = None,
    overwrite: bool = False,
    confined: bool | None = None,
) -> Path:
    """The file a dialog may write for ``text``, or PathRefused / FileExists saying why not.
    ``confined`` (default: in served mode) keeps it inside the operator's own folder."""
    if not (text or "").strip():
        raise PathRefused("choose a file name")
    typed = _typed(text, _TEMPORARY)
    try:
        return _target(typed, username, kind, base, overwrite, confined)
    except OSError as exc:  # a folder on the way that cannot be read, say
        raise PathRefused(f"cannot write {typed}: {exc.strerror or exc}") from None


def _target(
    text: str, username: str, kind: str, base: Path | None, overwrite: bool, confined: bool | None
) -> Path:
    if served() if confined is None else confined:
        path = _inside(own_folder(kind, username), text)
    else:
        path = _local(text, base)
        _no_dot_target(path)
    folder = path.parent
    if path.is_dir():
        raise PathRefused(f"{path} is a folder: add a file name")
    if not folder.is_dir():
        raise PathRefused(f"the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PathRefused(f"the folder {folder} is not writable")
    if os.path.lexists(path):
        _regular_or_refused(path)
        if not overwrite:
            raise FileExists(f"{path} already exists")
    return path


def _regular_or_refused(path: Path) -> None:
    """Only a regular file (or a link to one) may be replaced: writing goes through a new file
    renamed into place, which would turn a device (``-o /dev/null`` as root) or a pipe into a
    plain file."""
    try:
        info = os.stat(path)
    except OSError:
        info = os.lstat(path)  # a dangling link: replacing the link itself is harmless
        if stat.S_ISLNK(info.st_mode):
            return
    if not stat.S_ISREG(info.st_mode):
        raise PathRefused(f"{path} is not a regular file (a device, a pipe or a socket): choose a file name")


def source(text: str, username: str, *, base: Path | None = None) -> Path:
    """The file a dialog may read for ``text`` (served: only from the uploads folder)."""
    if not (text or "").strip():
        raise PathRefused("choose a file")
    typed = _typed(text)
    try:
        return _source(typed, username, base)
    except OSError as exc:
        raise PathRefused(f"cannot read {typed}: {exc.strerror or exc}") from None


def _source(text: str, username: str, base: Path | None) -> Path:
    if served():
        path = _inside(own_folder(UPLOADS, username), text)
    else:
        path = _local(text, base)
    if not path.exists():
        raise PathRefused(f"no such file: {path}")
    if not path.is_file():
        raise PathRefused(f"{path} is not a regular file")
    if not os.access(path, os.R_OK):
        raise PathRefused(f"{path} is not readable")
    return path


def read_limited(path: Path, limit: int) -> bytes:
    """A regular file's bytes (at most ``limit + 1``, so the caller can refuse what is over),
    opened without following a link planted after the check."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise PathRefused(f"cannot read {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise PathRefused(f"{path} is not a regular file")
        if info.st_size > limit:
            raise PathRefused(f"{path.name} is over the limit of {limit // (1024 * 1024)} MB")
        return handle.read(limit + 1)


@contextmanager
def private_file(path: str | os.PathLike, *, overwrite: bool) -> Iterator[BinaryIO]:
    """A binary file (0600) in ``path``'s folder that becomes ``path`` only when the block ends
    without an error. Without ``overwrite``, a file (or link) appearing at ``path`` meanwhile is
    left alone and the write fails with FileExists."""
    path = os.fspath(path)
    folder, name = os.path.split(path)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise PathRefused(f"cannot write in {folder}: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as out:
            yield out
        os.chmod(temporary, 0o600)
        if overwrite:
            os.replace(temporary, path)  # replaces a link itself, never its target
        else:
            try:
                os.link(temporary, path, follow_symlinks=False)
            except FileExistsError:
                raise FileExists(f"{path} already exists") from None
            os.unlink(temporary)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def write_private(path: str | os.PathLike, data: bytes, *, overwrite: bool) -> None:
    with private_file(path, overwrite=overwrite) as out:
        out.write(data)


@dataclass(frozen=True)
class Entry:
    name: str
    size: int
    modified: datetime


def listing(kind: str, username: str) -> list[Entry]:
    """The plain files in the operator's folder, newest first (temporary dot-files left out)."""
    folder = own_folder(kind, username)
    entries = []
    with os.scandir(folder) as scan:
        for item in scan:
            if item.name.startswith(".") or not item.is_file(follow_symlinks=False):
                continue
            info = item.stat(follow_symlinks=False)
            entries.append(Entry(item.name, info.st_size, datetime.fromtimestamp(info.st_mtime)))
    return sorted(entries, key=lambda e: (e.modified, e.name), reverse=True)


def delete(kind: str, username: str, name: str) -> None:
    """Remove one file from the operator's folder (never a path outside it)."""
    folder = own_folder(kind, username)
    if "/" in name or name.startswith(".") or not name:
        raise PathRefused(f"{name} is not a file in your folder")
    path = folder / name
    if not path.is_file() or path.is_symlink():
        raise PathRefused(f"{name} is not a file in your folder")
    path.unlink()


def mail_export(username: str, name: str, address: str) -> None:
    """E-mail one file of the operator's export folder to their own address (SMTP as
    configured for notifications; the caller checked it is)."""
    import mimetypes
    from email.message import EmailMessage

    from itsm_tui.core.notify import mailer

    smtp = mailer.settings()
    if smtp is None:
        raise PathRefused("e-mail is not set up on this server")
    path = own_folder(EXPORTS, username) / name
    if "/" in name or name.startswith(".") or path.is_symlink() or not path.is_file():
        raise PathRefused(f"{name} is not a file in your folder")
    content = read_limited(path, 50 * 1024 * 1024)
    mail = EmailMessage()
    mail["From"] = smtp.sender
    mail["To"] = address
    mail["Subject"] = f"itsm-tui export: {name}"
    mail.set_content(f"The export {name} you made in itsm-tui is attached.\n")
    kind = (mimetypes.guess_type(name)[0] or "application/octet-stream").split("/", 1)
    mail.add_attachment(content, maintype=kind[0], subtype=kind[1], filename=name)
    connection = mailer._connect(smtp)
    try:
        connection.send_message(mail)
    finally:
        connection.quit()
