"""Reading an incoming message: who sent it, the subject, a readable body, the attachments.

Everything here is untrusted and may be broken (real mailboxes hold missing headers, wrong or
unknown charsets, raw 8-bit headers, garbage before the headers): every step has a fallback and
nothing raises on bad input. HTML is converted to text with ``inscriptis`` (links kept as text);
no markup is ever interpreted downstream.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import quopri
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from inscriptis import get_text
from inscriptis.model.config import ParserConfig

from itsm_tui.core.text import strip_controls

# Charsets mail clients declare that Python's codecs lack or that mean a larger one in practice.
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "sjis": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "big5": "big5hkscs",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "us-ascii": "cp1252",  # 8-bit bytes under a US-ASCII label are nearly always Windows-1252
    "ascii": "cp1252",
}
# Raw 8-bit header bytes come in the sender's local charset: with a Japanese body, Shift_JIS.
_HEADER_FAMILY = {"iso2022_jp_ext": "cp932", "euc_jp": "cp932"}
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")  # "Name: value", as RFC 5322 writes a field
_HTML = ParserConfig(display_links=True, display_anchors=False)
_NAME_SAFE = re.compile(r"[\x00-\x1f/\\:*?\"<>|]+")
_NAME_EDGES = re.compile(r"^[\s.]+|[\s.]+$")  # any white space (no-break spaces too) and dots


@dataclass
class Attachment:
    name: str
    content: bytes
    content_type: str


@dataclass
class Parsed:
    raw: bytes
    message_id: str
    from_address: str  # lower case; "" when the message names no sender at all
    from_name: str
    subject: str
    body: str
    cc: list[str] = field(default_factory=list)
    in_reply_to: list[str] = field(default_factory=list)  # In-Reply-To, then References, newest first
    attachments: list[Attachment] = field(default_factory=list)
    message: EmailMessage | None = None  # for the classification

    def header(self, name: str) -> str:
        return header_text(self.message, name) if self.message is not None else ""


def parse(raw: bytes) -> Parsed:
    """Parse a message (never raises on bad input; the worst case is an empty body)."""
    try:
        return _parsed(raw, _message(raw))
    except Exception:  # e.g. forwards nested hundreds deep: past Python's recursion limit
        return _parsed(raw, _flat(raw))


def _parsed(raw: bytes, message: EmailMessage) -> Parsed:
    charsets = [c for c in (_charset(p.get_content_charset()) for p in message.walk()) if c]
    from_name, from_address = _sender(message, charsets)
    subject = " ".join(header_text(message, "Subject", charsets).split())
    parts: list[Message] = []
    body = _body(message, parts).strip()
    return Parsed(
        raw=raw,
        message_id=_message_id(message, raw),
        from_address=from_address,
        from_name=from_name,
        subject=subject,
        body=body,
        cc=_addresses(message, "Cc"),
        in_reply_to=_thread_ids(message),
        attachments=_attachments(message, {id(p) for p in parts}),
        message=message,
    )


def _message(raw: bytes, headers_only: bool = False) -> EmailMessage:
    """The parsed message, repaired where clients and gateways break it: a first line that is
    no header ("---- Original email message ----" above the headers) is dropped, and a header
    line folded without the leading space is joined to the field above, so the real headers
    are read and the body is not cut into them."""
    raw = raw.lstrip(b"\r\n")
    first = raw.split(b"\n", 1)[0]
    if not _HEADER_LINE.match(first) and not first.startswith(b"From "):
        rest = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
        if _HEADER_LINE.match(rest.lstrip(b"\r\n")):
            raw = rest.lstrip(b"\r\n")
    end = re.search(rb"\r?\n\r?\n", raw)
    if end:
        lines = raw[: end.start()].split(b"\n")
        fixed = [
            line if i == 0 or _HEADER_LINE.match(line) or line[:1] in (b" ", b"\t") else b" " + line
            for i, line in enumerate(lines)
        ]
        raw = b"\n".join(fixed) + raw[end.start() :]
    return BytesParser(policy=policy.default).parsebytes(raw, headersonly=headers_only)


def _flat(raw: bytes) -> EmailMessage:
    """The headers, and everything after them as plain text: a message that Python's email
    package cannot take apart or write back still becomes a ticket, its parts readable."""
    message = _message(raw, headers_only=True)
    del message["Content-Type"], message["Content-Transfer-Encoding"]
    return message


def _charset(name: str | None) -> str | None:
    if not name:
        return None
    name = _CHARSET_ALIASES.get(name.strip().lower(), name.strip().lower())
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode(data: bytes, charset: str | None) -> str:
    """Text from bytes in a declared charset; an unknown or wrong one falls back to UTF-8, then
    Windows-1252; undecodable bytes become U+FFFD."""
    known = _charset(charset)
    if known:
        try:
            return data.decode(known)
        except UnicodeDecodeError:
            if known.startswith("iso2022_jp"):  # Windows' extensions (①, Ⅰ) in ISO-2022-JP
                return _jis_as_cp932(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode(known or "cp1252", errors="replace")


_JIS_MODE = re.compile(rb"\x1b(\$[@B]|\([BJI])")


def _jis_as_cp932(data: bytes) -> str:
    """ISO-2022-JP as Windows writes it (NEC and IBM extensions, which Python's codec lacks):
    each two-byte JIS code converted to Shift_JIS and decoded as Windows-932."""
    out = bytearray()
    mode = b"(B"
    pieces = _JIS_MODE.split(data)
    for i, piece in enumerate(pieces):
        if i % 2:
            mode = piece
            continue
        if mode in (b"$B", b"$@"):
            for j in range(0, len(piece) - 1, 2):
                j1, j2 = piece[j], piece[j + 1]
                s1 = ((j1 - 0x21) >> 1) + 0x81
                s1 += 0x40 if s1 > 0x9F else 0
                s2 = (j2 + 0x1F + (j2 >= 0x60)) if j1 % 2 else j2 + 0x7E
                out += bytes((s1 & 0xFF, s2 & 0xFF))
        elif mode == b"(I":
            out += bytes((b | 0x80) & 0xFF for b in piece)
        else:
            out += piece
    return out.decode("cp932", errors="replace")


def _raw_header(message: Message | None, name: str) -> str:
    """The header as the message holds it (undecoded), "" when absent or unreadable."""
    if message is None:
        return ""
    for key, value in message.raw_items():  # as parsed, before any policy decoding
        if key.lower() == name.lower():
            return value if isinstance(value, str) else str(value)
    return ""


def header_text(message: Message | None, name: str, charsets: list[str] | None = None) -> str:
    """A header decoded (RFC 2047 words; raw 8-bit bytes in UTF-8 or the message's charset),
    control characters removed, one line."""
    raw = _raw_header(message, name)
    if not raw:
        return ""
    if any("\udc80" <= ch <= "\udcff" for ch in raw):  # raw 8-bit bytes, kept as surrogates
        data = raw.encode("ascii", "surrogateescape")
        candidates = ["utf-8"] + [_HEADER_FAMILY.get(c, c) for c in charsets or []]
        for charset in candidates:
            try:
                raw = data.decode(charset)
                break
            except (UnicodeDecodeError, LookupError):
                continue
        else:
            raw = data.decode("cp1252", errors="replace")
    try:
        text = str(make_header(decode_header(raw)))
    except Exception:  # a broken encoded word (bad base64, a charset named in garbage): one by one
        text = _decode_words(raw)
    return strip_controls(text).strip()


def _decode_words(raw: str) -> str:
    """RFC 2047 words one by one, each with the fallback decoder (a bad word stays readable)."""
    try:
        pieces = decode_header(raw)
    except Exception:  # a malformed header must not stop the message: keep it as it is
        return raw
    return "".join(p if isinstance(p, str) else decode(p, c) for p, c in pieces)


def _sender(message: EmailMessage, charsets: list[str]) -> tuple[str, str]:
    """(display name, address) of the sender: From, else Reply-To, Sender or Return-Path."""
    for name in ("From", "Reply-To", "Sender", "Return-Path"):
        raw = _raw_header(message, name)
        if not raw:
            continue
        # The address is read from the undecoded header: an encoded word never becomes part of
        # an address ("=?utf-8?Q?a?=@x" is not "a@x"), as RFC 2047 says.
        pairs = [pair for pair in getaddresses([raw]) if "@" in pair[1]]
        if not pairs:
            pairs = [parseaddr(raw)]
        display, address = pairs[0]
        address = _clean_address(address)
        if "@" in address:
            shown = header_text(message, name, charsets)
            display_text = parseaddr(shown)[0] if shown else display
            return strip_controls(display_text or "").strip(), address
    return "", ""


def _addresses(message: EmailMessage, name: str) -> list[str]:
    seen: list[str] = []
    for _display, address in getaddresses([header_text(message, name)]):
        address = _clean_address(address)
        if "@" in address and address not in seen:
            seen.append(address)
    return seen


def _clean_address(address: str) -> str:
    """Lower case, no controls, and raw 8-bit bytes as UTF-8 (else U+FFFD): always storable."""
    return _storable(address).strip().strip("<>").lower()


def _storable(text: str) -> str:
    """Raw 8-bit bytes (kept by the parser as surrogates) as UTF-8, else U+FFFD; no controls."""
    return strip_controls(text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))


MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def _message_id(message: EmailMessage, raw: bytes) -> str:
    """The Message-ID; a message without one is known by a hash of its bytes, so the same
    message delivered twice is still processed once."""
    found = MESSAGE_ID.findall(_raw_header(message, "Message-ID"))
    if found:
        return normal_id(found[0])
    bare = _raw_header(message, "Message-ID").strip()
    if re.fullmatch(r"[^<>\s]+", bare):  # no brackets; folded or spaced, it is no ID at all
        return normal_id(f"<{bare}>")
    return f"<sha256.{hashlib.sha256(raw).hexdigest()}@itsm-tui.invalid>"


def normal_id(message_id: str) -> str:
    """A Message-ID as stored: angle brackets, storable (raw 8-bit bytes as UTF-8, as in an
    address), at most 255 characters (a longer one is hashed)."""
    message_id = _storable(message_id).strip()
    if len(message_id) > 255:
        digest = hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()
        return f"<sha256.{digest}@itsm-tui.invalid>"
    return message_id


def _thread_ids(message: EmailMessage) -> list[str]:
    ids: list[str] = []
    for name in ("In-Reply-To", "References"):
        found = MESSAGE_ID.findall(_raw_header(message, name))
        for item in reversed(found) if name == "References" else found:
            item = normal_id(item)
            if item not in ids:
                ids.append(item)
    return ids


# ---------------------------------------------------------------- body and attachments


def _is_attachment(part: Message) -> bool:
    disposition = (part.get_content_disposition() or "").lower()
    return disposition == "attachment" or (disposition != "inline" and bool(part.get_filename(None)))


def _text_of(part: Message) -> str:
    data = _content(part)
    text = decode(data, part.get_content_charset())
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return strip_controls(text, multiline=True)


def html_to_text(html: str) -> str:
    try:
        return get_text(html, _HTML)
    except Exception:  # a document inscriptis cannot read: the tags removed, crudely
        return re.sub(r"<[^>]*>", " ", html)


def _body(part: Message, used: list[Message]) -> str:
    """The readable text of ``part``; the parts it used are appended to ``used``."""
    kind = part.get_content_type()
    if kind in ("text/plain", "text/html") and not _is_attachment(part):
        used.append(part)
        return _text_of(part)
    if part.get_content_maintype() != "multipart":
        return ""
    payload = part.get_payload()
    if isinstance(payload, str):  # a multipart without its parts: the text is all there is
        used.append(part)
        return _text_of(part)
    children = [c for c in payload if isinstance(c, Message)]
    if kind == "multipart/alternative":
        # The plain text when it says something, else the richest (last) alternative.
        for prefer in ("text/plain", None):
            for child in children if prefer else reversed(children):
                if prefer and child.get_content_type() != prefer:
                    continue
                mine: list[Message] = []
                text = _body(child, mine)
                if text.strip():  # the other alternatives say the same: not attachments
                    used.extend(
                        p
                        for c in children
                        for p in c.walk()
                        if p.get_content_type() in ("text/plain", "text/html") and not _is_attachment(p)
                    )
                    return text
        return ""
    if kind == "multipart/signed":
        return _body(children[0], used) if children else ""
    if kind == "multipart/report":  # the human-readable part; the report itself is kept as a file
        return _body(children[0], used) if children else ""
    texts = []
    for child in children:
        if child.get_content_type().startswith(("text/plain", "text/html", "multipart/")):
            text = _body(child, used)
            if text.strip():
                texts.append(text.strip())
    return "\n\n".join(texts)


def _attachments(message: EmailMessage, used: set[int]) -> list[Attachment]:
    found: list[Attachment] = []
    _collect(message, used, found)
    return found


def _collect(part: Message, used: set[int], found: list[Attachment]) -> None:
    kind = part.get_content_type()
    if kind == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        content = inner.as_bytes() if isinstance(inner, Message) else b""
        subject = header_text(inner, "Subject") if isinstance(inner, Message) else ""
        found.append(Attachment(_name(part, found, f"{subject or 'message'}.eml"), content, kind))
        return
    if kind == "message/delivery-status":  # a list of header blocks: kept as the text it was
        blocks = part.get_payload()
        content = b"\n".join(b.as_bytes() for b in blocks if isinstance(b, Message))
        found.append(Attachment(_name(part, found), content, kind))
        return
    if part.is_multipart():
        for child in part.get_payload():
            if isinstance(child, Message):
                _collect(child, used, found)
        return
    if id(part) in used:
        return
    found.append(Attachment(_name(part, found), _content(part), kind))


def _content(part: Message) -> bytes:
    """The part's decoded bytes (also a multipart's text when it lost its parts); a broken
    transfer encoding gives the raw text."""
    payload = part.get_payload()
    if isinstance(payload, str) and part.get_content_maintype() == "multipart":
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        data = payload.encode("ascii", "surrogateescape")
        try:
            if encoding == "quoted-printable":
                return quopri.decodestring(data)
            if encoding == "base64":
                return base64.b64decode(data)
        except ValueError:
            pass
        return data
    try:
        content = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding: keep what is there
        content = None
    if isinstance(content, bytes):
        return content
    return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""


_EXTENSIONS = {
    "text/plain": "txt",
    "text/html": "html",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "application/pdf": "pdf",
    "message/delivery-status": "txt",
    "text/rfc822-headers": "txt",
}


def _name(part: Message, found: list[Attachment], fallback: str | None = None) -> str:
    """The part's file name (RFC 2231 and RFC 2047 decoded by the policy), made safe; a part
    without one (an inline image) gets one from its type."""
    try:
        name = part.get_filename(None)
    except Exception:  # a malformed parameter
        name = None
    if name:
        name = str(make_header(decode_header(name))) if "=?" in name else name
    if not name and part.get("Content-Description") and not fallback:
        extension = _EXTENSIONS.get(part.get_content_type(), "bin")
        name = f"{header_text(part, 'Content-Description')}.{extension}"
    if not name:
        name = fallback or f"part-{len(found) + 1}.{_EXTENSIONS.get(part.get_content_type(), 'bin')}"
    name = _NAME_EDGES.sub("", _NAME_SAFE.sub("_", strip_controls(name))) or "attachment"
    return name[:200]
