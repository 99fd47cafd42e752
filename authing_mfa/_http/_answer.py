"""One answer, read by the same rules whatever stack received it.

Each stack hands over what its library parsed (status, reason and raw header lines to
`read_head` as soon as the head arrives, then the body still in its content coding to
`read_answer`), and these apply the rules the stacks share, so an answer aiohttp accepts
and httpx refuses (or the reverse) ends the same way on both:

- a final status outside 200-599 (a 101, a 999) is not an HTTP answer to our request;
- a status line and header block larger than `MAX_HEAD` are refused (httpx's h11 refuses
  past 100 KiB, aiohttp past 8 KiB a line unless told otherwise);
- a header value holding a control character other than tab is refused (h11 takes most,
  aiohttp's parser few), and so is a ``Transfer-Encoding`` other than ``chunked`` or one
  beside a ``Content-Length`` (h11 refuses the first and reads the second, aiohttp the
  reverse);
- header names are looked up in lower case, and a header sent more than once reads as its
  values joined by ``", "`` (RFC 9110 section 5.3), where aiohttp would give the first;
- the body is decoded here, not by the libraries: ``gzip``, ``x-gzip``, ``deflate`` (zlib
  or raw) and ``identity``, as advertised by `ACCEPT_ENCODING`; any other coding, data that
  does not decompress, or more than `MAX_BODY` bytes once decompressed, is refused;
- a body of more than `MAX_BODY` bytes as sent is refused too: at once when its
  ``Content-Length`` says so, else as the stack reads past the limit (`check_body_size`).

Every refusal is a `ProtocolViolation`, which the stacks raise as our `ConnectionError`: the
server, or a middlebox between, broke the exchange, and a later attempt may get through.
"""

from __future__ import annotations

__all__ = [
    "ACCEPT_ENCODING",
    "MAX_BODY",
    "MAX_HEAD",
    "Answer",
    "ProtocolViolation",
    "check_body_size",
    "read_answer",
    "read_head",
]

import re
import zlib
from collections.abc import Iterable, Mapping

ACCEPT_ENCODING = "gzip, deflate"
MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024
_MAX_BODY_DIGITS = len(str(MAX_BODY))

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_MIN_STATUS, _MAX_STATUS = 200, 599


class ProtocolViolation(Exception):  # noqa: N818 - internal, raised as our ConnectionError
    """The server's answer breaks HTTP/1.1, or the rules above; the message says how."""


class Answer:
    """A whole HTTP answer, as the envelope reader takes it (see `Reply`)."""

    __slots__ = ("content", "headers", "reason_phrase", "status_code")

    def __init__(
        self, status_code: int, reason_phrase: str, headers: Mapping[str, str], content: bytes
    ) -> None:
        self.status_code = status_code
        self.reason_phrase = reason_phrase
        self.headers = headers
        self.content = content

    def __repr__(self) -> str:
        return f"<Answer {self.status_code} {self.reason_phrase!r}, {len(self.content)} bytes>"


def read_head(
    status: int, reason: str, raw_headers: Iterable[tuple[bytes, bytes]]
) -> dict[str, str]:
    """Check an answer's status line and headers, before its body is read; return the headers.

    Checked before the body, so a broken head ends the exchange at once on both stacks, even
    when the server then stalls.

    Raises:
        ProtocolViolation: the head breaks one of the rules in the module docstring.
    """
    if not _MIN_STATUS <= status <= _MAX_STATUS:
        raise ProtocolViolation(f"HTTP status {status} is not a final answer to a request")
    if not reason.isprintable() and _CONTROL.search(reason):
        raise ProtocolViolation("the status line's reason holds a control character")
    headers: dict[str, str] = {}
    size = len(reason) + 13  # "HTTP/1.1 200 "
    for raw_name, raw_value in raw_headers:
        size += len(raw_name) + len(raw_value) + 4
        name = raw_name.decode("latin-1").lower()
        try:
            value = raw_value.decode("ascii")  # nearly every value, without a call to `_text`
        except UnicodeDecodeError:
            value = _text(raw_value)
        # isprintable() is the fast answer for the usual value; a tab needs the full check.
        if not value.isprintable() and _CONTROL.search(value):
            raise ProtocolViolation(f"the {name[:40]!r} header holds a control character")
        if name in headers:
            headers[name] = f"{headers[name]}, {value}"
        else:
            headers[name] = value
    if size > MAX_HEAD:
        raise ProtocolViolation(f"the status line and headers exceed {MAX_HEAD} bytes")
    _check_framing(headers)
    return headers


def _check_framing(headers: dict[str, str]) -> None:
    length = headers.get("content-length")
    # Fewer digits than the limit has are surely under it: the usual answer stops here.
    if (
        length is not None
        and len(length) >= _MAX_BODY_DIGITS
        and length.isascii()
        and length.isdigit()
    ):
        # The parsers refused any other length already; this one may have a hundred digits.
        digits = length.lstrip("0")
        if len(digits) > _MAX_BODY_DIGITS or int(digits or "0") > MAX_BODY:
            raise ProtocolViolation(f"the answer announces a body over {MAX_BODY} bytes")
    transfer = headers.get("transfer-encoding")
    if transfer is not None:
        # httpx (h11) refuses these and aiohttp reads them: framing that may smuggle.
        if transfer.strip().lower() != "chunked":
            raise ProtocolViolation("the transfer coding is not just chunked")
        if length is not None:
            raise ProtocolViolation("the answer has both Transfer-Encoding and Content-Length")


def check_body_size(size: int) -> None:
    """Refuse a body once *size* bytes of it, as sent, have been read past `MAX_BODY`.

    Raises:
        ProtocolViolation: *size* is over the limit.
    """
    if size > MAX_BODY:
        raise ProtocolViolation(f"the body runs past {MAX_BODY} bytes")


def read_answer(
    status: int, reason: str, headers: dict[str, str], body: bytes, *, decoded: bool = False
) -> Answer:
    """Decode the body of an answer whose head `read_head` accepted, and return the answer.

    *decoded* says the body's content coding was undone already (an answer an httpx mock
    transport built in memory).

    Raises:
        ProtocolViolation: the body is over `MAX_BODY` bytes, or its content coding is not
            one we accept, or does not decode.
    """
    check_body_size(len(body))
    coding = headers.get("content-encoding")
    if coding is not None and not decoded:
        body = _decode(coding, body)
    return Answer(status, reason, headers, body)


def _text(value: bytes) -> str:
    # As httpx reads header values: ASCII, else UTF-8, else Latin-1 (which takes any byte).
    try:
        return value.decode("ascii")
    except UnicodeDecodeError:
        pass
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _decode(coding: str, body: bytes) -> bytes:
    """Undo the content codings *coding* lists, the last applied first."""
    for name in reversed([part.strip().lower() for part in coding.split(",")]):
        if name in {"", "identity"}:
            continue
        if name in {"gzip", "x-gzip"}:
            body = _inflate(body, zlib.MAX_WBITS | 16, name)
        elif name == "deflate":
            # RFC 9110 says zlib-wrapped; some servers send raw deflate, as browsers accept.
            wrapped = len(body) > 1 and body[0] & 0x0F == 8 and (body[0] << 8 | body[1]) % 31 == 0  # noqa: PLR2004 - RFC 1950's header check
            body = _inflate(body, zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS, name)
        else:
            shown = name[:40]
            raise ProtocolViolation(
                f"the answer is in content coding {shown!r}, which the client did not accept "
                f"(Accept-Encoding: {ACCEPT_ENCODING})"
            )
    return body


def _inflate(body: bytes, wbits: int, name: str) -> bytes:
    if not body:  # a 204 or 304 may name a coding and have no body to decode
        return body
    decompressor = zlib.decompressobj(wbits)
    try:
        out = decompressor.decompress(body, MAX_BODY)
    except zlib.error:
        raise ProtocolViolation(f"the {name} body does not decompress") from None
    if decompressor.unconsumed_tail:
        raise ProtocolViolation(f"the {name} body decompresses to more than {MAX_BODY} bytes")
    if not decompressor.eof:
        raise ProtocolViolation(f"the {name} body is cut short")
    return out
