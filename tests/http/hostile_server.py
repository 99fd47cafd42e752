"""A hostile HTTP/1.1 server on loopback: it answers each request with scripted bytes.

The server is honest about requests and nothing else: it reads each request whole (request
line, headers, a ``Content-Length`` body), counts it under its path, and writes the next
scripted `Answer` for that path, byte for byte: any status line, any headers, any framing,
stalls and early closes included. When a path's script runs out it answers like Authing
would, so a call that survives its script ends in a record.

Plain sockets and a thread per connection keep it independent of the event loop (asyncio or
trio) the client under test runs in.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from support import fakes

TOKEN_PATH = "/graphql/v2"

# Distinctive, long values: finding one of them in an error or a log record means a leak.
POOL_SECRET = "pool-secret-5f3a9c1e-d0b7-4e2a-9f61-never-shown-anywhere"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.tok-7b2e91c4-6a0f-4d3e-b8a5-never-shown.c2lnbmF0dXJl"
TOTP_KEY = "JBSWY3DPEHPK3PXPMZXW6YTBOI4XQ2LSNVQXGZLU"
RECOVERY_CODE = "rc-3e8f1a2b-9c4d-4e5f-a6b7-never-shown"
SECRETS = (POOL_SECRET, TOKEN, TOTP_KEY, RECOVERY_CODE)

Where = Literal["start", "headers", "body"]


@dataclass(frozen=True)
class Stall:
    """Stop writing for *seconds* at *where*: before the status line, mid-headers, mid-body."""

    where: Where
    seconds: float


@dataclass(frozen=True)
class Trickle:
    """Write *where* (the head, or the body) a byte every *interval* seconds.

    With *endless*, the body never ends: after it, the server goes on sending filler (one-byte
    chunks for a chunked body) every *interval*, or when *interval* is 0 fast, 64 KiB a
    millisecond (64 MiB a second, yet leaving a core to the tests beside), until the client
    closes the connection.
    """

    where: Literal["headers", "body"]
    interval: float
    endless: bool = False


@dataclass(frozen=True)
class Answer:
    """One scripted answer, as bytes on the wire.

    Attributes:
        status_line: the first line, without its CRLF (any bytes, valid or not).
        headers: header lines as (name, value) bytes, in order, duplicates allowed; the
            framing header (Content-Length or Transfer-Encoding) is added per *framing*.
        body: the body as sent (already compressed when a Content-Encoding says so).
        framing: ``length`` sends ``Content-Length: len(body) + length_delta`` (or the
            *length* text when given); ``chunked`` sends the body in chunks (broken ones when
            *bad_chunks*); ``eof`` sends no length and ends the body by closing.
        stall: a pause in the answer, if any.
        trickle: a part of the answer written slowly, or a body without end, if any (a
            *stall* or *cut* in the part it trickles is not applied).
        cut: where the server closes the connection early, if it does.
        keep_alive: whether the connection stays open for the next request; when not, the
            answer says ``Connection: close`` (when its headers get written) and the server
            closes after it.
    """

    status_line: bytes = b"HTTP/1.1 200 OK"
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes = b""
    framing: Literal["length", "chunked", "eof"] = "length"
    length_delta: int = 0
    length: bytes | None = None
    bad_chunks: bool = False
    stall: Stall | None = None
    trickle: Trickle | None = None
    cut: Where | None = None
    keep_alive: bool = True

    def __repr__(self) -> str:
        fields = []
        for name, default in _ANSWER_DEFAULTS.items():
            value = getattr(self, name)
            if value != default:
                fields.append(f"{name}={_short(value)}")
        return f"Answer({', '.join(fields)})"

    @property
    def closes(self) -> bool:
        """Whether the server closes the connection after (or while) writing this answer."""
        return not self.keep_alive or self.cut is not None or self.framing == "eof"

    def head(self) -> bytes:
        """The status line and headers, as written."""
        lines = [self.status_line]
        lines += [name + b": " + value for name, value in self.headers]
        if self.framing == "length":
            length = self.length
            if length is None:
                length = str(len(self.body) + self.length_delta).encode()
            lines.append(b"Content-Length: " + length)
        elif self.framing == "chunked":
            lines.append(b"Transfer-Encoding: chunked")
        if self.closes:
            lines.append(b"Connection: close")
        return b"\r\n".join(lines) + b"\r\n\r\n"

    def payload(self) -> bytes:
        """The body as written, framing included."""
        if self.framing != "chunked":
            return self.body
        if self.bad_chunks:
            return b"zz\r\n" + self.body + b"\r\n0\r\n\r\n"
        chunks = [self.body[i : i + 1000] for i in range(0, len(self.body), 1000)]
        out = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks)
        if self.trickle is not None and self.trickle.endless:
            return out  # the filler chunks follow, and no last chunk
        return out + b"0\r\n\r\n"

    def filler(self) -> bytes:
        """What an endless body sends after its body, again and again."""
        assert self.trickle is not None
        size = 1 if self.trickle.interval else 65536
        if self.framing == "chunked":
            return b"%x\r\n%s\r\n" % (size, b"x" * size)
        return b"x" * size


_ANSWER_DEFAULTS = {
    "status_line": b"HTTP/1.1 200 OK",
    "headers": (),
    "body": b"",
    "framing": "length",
    "length_delta": 0,
    "length": None,
    "bad_chunks": False,
    "stall": None,
    "trickle": None,
    "cut": None,
    "keep_alive": True,
}


def _short(value: object) -> str:
    """A repr that shows a long bytes value by its start and length."""
    if isinstance(value, bytes) and len(value) > 120:
        return f"{value[:60]!r}+...({len(value)} bytes)"
    if isinstance(value, tuple):
        inner = ", ".join(_short(item) for item in value)
        return f"({inner}{',' if len(value) == 1 else ''})"
    return repr(value)


# Authing's answers, as the server sends them when a script runs out.
def token_body(token: str = TOKEN, lifetime: int = 86400 * 14) -> bytes:
    iat = 1_700_000_000
    answer = {"accessToken": token, "exp": iat + lifetime, "iat": iat}
    return json.dumps({"data": {"accessToken": answer}}).encode()


AUTHENTICATOR = {
    **fakes.AUTHENTICATOR,
    "userId": "u1",
    "secret": TOTP_KEY,
    "recoveryCode": RECOVERY_CODE,
}

SUCCESS_DATA = {
    "get_status": {"FACE": False, "OTP": True},
    "unassociate_mfa": None,
    "import_totp": AUTHENTICATOR,
}


def envelope(data: object = None, code: int = 200, message: str = "ok") -> bytes:
    return json.dumps({"code": code, "message": message, "data": data}).encode()


def json_answer(body: bytes, status: bytes = b"200 OK") -> Answer:
    return Answer(
        status_line=b"HTTP/1.1 " + status,
        headers=((b"Content-Type", b"application/json; charset=utf-8"),),
        body=body,
    )


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def deflated(data: bytes) -> bytes:
    return zlib.compress(data)


@dataclass
class _Play:
    token: tuple[Answer, ...]
    api: tuple[Answer, ...]
    default_api: Answer
    seen: Counter[str] = field(default_factory=Counter)
    heads: list[bytes] = field(default_factory=list)


class HostileServer:
    """Serves scripted answers on ``127.0.0.1``; see the module docstring.

    Lifetime: listening from construction to `close`. One script plays at a time (`play`).
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        self._play: _Play | None = None
        # The request line and headers of every request of the last script, as received.
        self.heads: list[bytes] = []
        self._connections: set[socket.socket] = set()
        self._closed = False
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    @contextmanager
    def play(
        self, token: tuple[Answer, ...], api: tuple[Answer, ...], default_api: Answer
    ) -> Iterator[Counter[str]]:
        """Answer with these scripts until the block ends; yield the requests seen per path.

        The counter's keys are ``"token"`` and ``"api"``.
        """
        play = _Play(token, api, default_api)
        with self._lock:
            self._play = play
            self.heads = play.heads
        try:
            yield play.seen
        finally:
            with self._lock:
                self._play = None
                connections, self._connections = self._connections, set()
            for connection in connections:
                _close(connection)

    def close(self) -> None:
        self._closed = True
        _close(self._listener)
        with self._lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            _close(connection)

    def _accept(self) -> None:
        while not self._closed:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._connections.add(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(15)
        buffer = b""
        try:
            while True:
                request, head, buffer = _read_request(connection, buffer)
                if request is None:
                    return
                answer = self._answer_for(request, head)
                if answer is None or not _write(connection, answer):
                    return
        except OSError:
            return
        finally:
            with self._lock:
                self._connections.discard(connection)
            _close(connection)

    def _answer_for(self, path: str, head: bytes) -> Answer | None:
        with self._lock:
            play = self._play
            if play is None:
                return None
            play.heads.append(head)
            kind = "token" if path == TOKEN_PATH else "api"
            index = play.seen[kind]
            play.seen[kind] += 1
        script = play.token if kind == "token" else play.api
        if index < len(script):
            return script[index]
        return json_answer(token_body()) if kind == "token" else play.default_api


def _read_request(connection: socket.socket, buffer: bytes) -> tuple[str | None, bytes, bytes]:
    """Read one whole request; return its path (None at end of stream), its head, what follows."""
    while b"\r\n\r\n" not in buffer:
        chunk = connection.recv(65536)
        if not chunk:
            return None, b"", b""
        buffer += chunk
    head, _, buffer = buffer.partition(b"\r\n\r\n")
    request_line, *header_lines = head.split(b"\r\n")
    length = 0
    for line in header_lines:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(buffer) < length:
        chunk = connection.recv(65536)
        if not chunk:
            return None, b"", b""
        buffer += chunk
    target = request_line.split(b" ")[1].decode("latin-1")
    return target.partition("?")[0], head, buffer[length:]


def _write(connection: socket.socket, answer: Answer) -> bool:
    """Write *answer*; return whether the connection stays open for another request."""
    head, payload = answer.head(), answer.payload()
    _pause(answer.stall, "start")
    if answer.cut == "start":
        return False
    if not _send(connection, answer, "headers", head, max(1, len(head) // 2)):
        return False
    if not _send(connection, answer, "body", payload, len(payload) // 2):
        return False
    trickle = answer.trickle
    if trickle is not None and trickle.endless:
        filler = answer.filler()
        stop = time.monotonic() + _LONGEST_TRICKLE
        pause = trickle.interval or 0.001
        while time.monotonic() < stop:  # until the client hangs up (an OSError here)
            connection.sendall(filler)
            time.sleep(pause)
        return False
    return not answer.closes


def _send(connection: socket.socket, answer: Answer, where: Where, data: bytes, half: int) -> bool:
    """Send *data*, cut or stalled after *half* bytes if *answer* says so *where* it goes.

    Return whether it was all sent.
    """
    stall, trickle = answer.stall, answer.trickle
    if trickle is not None and trickle.where == where:
        for index in range(len(data)):
            connection.sendall(data[index : index + 1])
            time.sleep(trickle.interval)
        return True
    if answer.cut != where and (stall is None or stall.where != where):
        connection.sendall(data)
        return True
    connection.sendall(data[:half])
    if answer.cut == where:
        return False
    _pause(stall, where)
    connection.sendall(data[half:])
    return True


# How long an endless body goes on at most, should its client never hang up.
_LONGEST_TRICKLE = 60.0


def _pause(stall: Stall | None, where: Where) -> None:
    if stall is not None and stall.where == where:
        time.sleep(stall.seconds)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
