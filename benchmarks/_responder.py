"""A bare, fast HTTP/1.1 responder for the overhead scenarios, run in its own process.

The emulator (`authing_mfa.testing`) is a faithful server, and so a slow one: an ASGI app that
journals every request. Against it every client looks alike, because the server's time per
request drowns the differences between clients. This responder answers the three routes the
benchmarks call with pre-built bytes, from a raw `asyncio.Protocol` that parses requests by
hand, so its own cost per request stays a small fraction of any client's:

- ``POST /graphql/v2``: the ``accessToken`` answer Authing sends, expiring in ten years.
- ``GET /api/v2/users/{id}/mfa-bound``: ``{"FACE": false, "OTP": true}`` in the envelope, for
  any user id.
- ``DELETE /api/v2/users/{id}/mfa-bound?type=...``: ``解绑成功`` with ``data: null``, for any user
  id and factor.
- ``POST /api/v2/mfa/totp/import``: a fixed authenticator record in the envelope.
- ``GET /__stats``: ``{"requests", "tokenRequests", "cpuSeconds"}``, where ``cpuSeconds`` is
  this process's CPU time (`time.process_time`) so far; the harness takes the difference of
  two snapshots and divides by the requests in between. Stats requests are not counted.
- ``GET /__last``: the header names and values of the last counted request, so the harness
  can check that every contender sends the same headers.

It speaks HTTP/1.1 keep-alive: bodies are read by ``Content-Length`` and several requests
arriving in one read (pipelining) are answered in order, in one write. It never reads
``Transfer-Encoding: chunked`` bodies (no contender sends one) and answers them with a 400 and
a closed connection, rather than misreading the stream. Anything else is a 404 envelope.

With ``--tls-cert PEM`` (a private key and its certificate chain in one file) it also
listens with TLS on a second port and answers the same routes there: the first-call scenario's
``https://`` host. `Responder` makes that certificate with ``trustme`` (the bench extra's), a
throwaway CA the harness hands to the clients it starts through ``SSL_CERT_FILE``.

Run it as ``python -m benchmarks._responder [--port N] [--tls-cert PEM]``: it prints
``READY <port> <loop> <tls port or ->`` on stdout once listening, and stops on SIGTERM or when
its standard input closes. `Responder` does that from the harness. uvloop serves it when
installed, else the stock asyncio loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self

TOKEN = "bench.responder.token"
_FAR = 10 * 365 * 24 * 3600

_MAX_HEAD = 64 * 1024


def _response(status: str, body: bytes, *, close: bool = False) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\n"
        "content-type: application/json; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\n"
        "x-request-id: bench\r\n"
    )
    if close:
        head += "connection: close\r\n"
    return head.encode("ascii") + b"\r\n" + body


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


_IAT = int(time.time())
TOKEN_BODY = _json(
    {"data": {"accessToken": {"accessToken": TOKEN, "exp": _IAT + _FAR, "iat": _IAT}}}
)
STATUS_BODY = _json({"code": 200, "message": "查询成功", "data": {"FACE": False, "OTP": True}})
IMPORT_BODY = _json(
    {
        "code": 200,
        "message": "添加 TOTP 验证器成功",
        "data": {
            "userId": "61de786b31d27307c7ce66c3",
            "enable": True,
            "secret": "JBSWY3DPEHPK3PXP",
            "authenticatorType": "totp",
            "recoveryCode": "8477-a1a6-662c-a750-bbb4-72a9",
            "createdAt": "2022-01-13T07:57:54.073Z",
            "updatedAt": "2022-01-13T07:57:54.073Z",
            "id": "61dfdb82b3f67714c88cc855",
            "source": "SELF",
        },
    }
)
_TOKEN_RESPONSE = _response("200 OK", TOKEN_BODY)
_STATUS_RESPONSE = _response("200 OK", STATUS_BODY)
UNBIND_BODY = _json({"code": 200, "message": "解绑成功", "data": None})
_IMPORT_RESPONSE = _response("200 OK", IMPORT_BODY)
_UNBIND_RESPONSE = _response("200 OK", UNBIND_BODY)
_NOT_FOUND = _response("404 Not Found", _json({"code": 404, "message": "no such route"}))
_BAD_REQUEST = _response(
    "400 Bad Request", _json({"code": 400, "message": "bad request"}), close=True
)

_STATUS_PREFIX = b"/api/v2/users/"
_STATUS_SUFFIX = b"/mfa-bound"


class Counters:
    """What the responder has served; read by ``GET /__stats``."""

    __slots__ = ("last_head", "requests", "token_requests")

    def __init__(self) -> None:
        self.requests = 0
        self.token_requests = 0
        self.last_head = b""

    def stats(self) -> bytes:
        return _response(
            "200 OK",
            _json(
                {
                    "requests": self.requests,
                    "tokenRequests": self.token_requests,
                    "cpuSeconds": time.process_time(),
                }
            ),
        )

    def last(self) -> bytes:
        headers: dict[str, str] = {}
        for line in self.last_head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        return _response("200 OK", _json({"headers": headers}))


class ResponderProtocol(asyncio.Protocol):
    """One keep-alive connection: buffer bytes, answer every complete request in order."""

    __slots__ = ("_buffer", "_counters", "_transport")

    def __init__(self, counters: Counters) -> None:
        self._counters = counters
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        out: list[bytes] = []
        start = 0
        close = False
        while True:
            end = buffer.find(b"\r\n\r\n", start)
            if end < 0:
                if len(buffer) - start > _MAX_HEAD:
                    out.append(_BAD_REQUEST)
                    close = True
                break
            head = buffer[start:end]
            length = _content_length(head)
            if length < 0:
                out.append(_BAD_REQUEST)
                close = True
                break
            body_end = end + 4 + length
            if body_end > len(buffer):
                break  # the body is still arriving
            out.append(self._answer(head))
            start = body_end
        self._buffer = buffer[start:] if not close else b""
        transport = self._transport
        if transport is not None and out:
            transport.write(out[0] if len(out) == 1 else b"".join(out))
            if close:
                transport.close()

    def _answer(self, head: bytes) -> bytes:
        line_end = head.find(b"\r\n")
        request_line = head if line_end < 0 else head[:line_end]
        method, _, rest = request_line.partition(b" ")
        target = rest.rpartition(b" ")[0]
        path = target.partition(b"?")[0]
        counters = self._counters
        if path.startswith(b"/__"):
            return _CONTROL.get(path, _not_found)(counters)
        counters.requests += 1
        counters.last_head = head
        if path.startswith(_STATUS_PREFIX) and path.endswith(_STATUS_SUFFIX):
            if method == b"GET":
                return _STATUS_RESPONSE
            if method == b"DELETE":
                return _UNBIND_RESPONSE
        if method == b"POST" and path == b"/graphql/v2":
            counters.token_requests += 1
        return _POST.get(path, _NOT_FOUND) if method == b"POST" else _NOT_FOUND


_POST = {b"/graphql/v2": _TOKEN_RESPONSE, b"/api/v2/mfa/totp/import": _IMPORT_RESPONSE}
_CONTROL = {b"/__stats": Counters.stats, b"/__last": Counters.last}


def _not_found(_counters: Counters) -> bytes:
    return _NOT_FOUND


def _content_length(head: bytes) -> int:
    """Return the body's length from a request head: 0 if none, -1 if it cannot be read."""
    lower = head.lower()
    if b"\r\ntransfer-encoding:" in lower:
        return -1
    at = lower.find(b"\r\ncontent-length:")
    if at < 0:
        return 0
    value_start = at + len(b"\r\ncontent-length:")
    value_end = lower.find(b"\r\n", value_start)
    value = lower[value_start:] if value_end < 0 else lower[value_start:value_end]
    try:
        length = int(value.strip())
    except ValueError:
        return -1
    return length if length >= 0 else -1


async def _serve(port: int, tls_cert: str | None) -> None:
    loop = asyncio.get_running_loop()
    counters = Counters()
    server = await loop.create_server(
        lambda: ResponderProtocol(counters), "127.0.0.1", port, backlog=1024
    )
    tls_port = "-"
    if tls_cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls_cert)
        tls_server = await loop.create_server(
            lambda: ResponderProtocol(counters), "127.0.0.1", 0, backlog=1024, ssl=context
        )
        tls_port = str(tls_server.sockets[0].getsockname()[1])
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    # The harness holds our stdin; when it goes away, so do we.
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not os.read(0, 1) else None)
    bound = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"READY {bound} {_loop_name()} {tls_port}\n")
    sys.stdout.flush()
    async with server:
        await stop.wait()


def _loop_name() -> str:
    return "uvloop" if "uvloop" in sys.modules else "asyncio"


def main(argv: list[str] | None = None) -> None:
    """Serve until stopped; see the module's docstring."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks._responder")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (the default)")
    parser.add_argument(
        "--tls-cert", default=None, help="a PEM key and certificate chain: also serve TLS"
    )
    args = parser.parse_args(argv)
    try:
        import uvloop  # noqa: PLC0415 - optional: faster when installed
    except ImportError:
        asyncio.run(_serve(args.port, args.tls_cert))
    else:
        uvloop.run(_serve(args.port, args.tls_cert))


class Responder:
    """The responder in a child process, for the length of a ``with`` block.

    ``url`` is its base URL; `stats` reads its counters, `last_headers` the headers of the
    last request it counted. When ``trustme`` is installed it also serves TLS: ``tls_url`` is
    then its ``https://`` base URL (``127.0.0.1``, the name its certificate carries) and
    ``ca_file`` the PEM of the CA that signed it; both are empty otherwise.
    """

    def __init__(self) -> None:
        self.url = ""
        self.loop = ""
        self.tls_url = ""
        self.ca_file = ""
        self._process: subprocess.Popen[str] | None = None
        self._directory: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Self:
        command = [sys.executable, "-m", "benchmarks._responder"]
        certificate = self._certificate()
        if certificate:
            command += ["--tls-cert", certificate]
        self._process = subprocess.Popen(  # noqa: S603 - our interpreter, our module
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().split()
        if len(line) != 4 or line[0] != "READY":
            self._stop()
            raise RuntimeError(f"the responder did not start: {line!r}")
        self.url = f"http://127.0.0.1:{line[1]}"
        self.loop = line[2]
        if line[3] != "-":
            self.tls_url = f"https://127.0.0.1:{line[3]}"
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop()
        if self._directory is not None:
            self._directory.cleanup()
            self._directory = None

    def _certificate(self) -> str:
        """Write a throwaway CA and a server certificate for 127.0.0.1; return its path."""
        try:
            import trustme  # noqa: PLC0415 - the bench extra's: without it, no TLS rows
        except ImportError:
            return ""
        self._directory = tempfile.TemporaryDirectory(prefix="bench-tls-")
        folder = self._directory.name
        ca = trustme.CA()
        ca.cert_pem.write_to_path(f"{folder}/ca.pem")
        ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
            f"{folder}/server.pem"
        )
        self.ca_file = f"{folder}/ca.pem"
        return f"{folder}/server.pem"

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def _get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=10) as answer:  # noqa: S310 - ours
            return json.loads(answer.read())

    def stats(self) -> dict[str, float]:
        """Return ``{"requests", "tokenRequests", "cpuSeconds"}`` as of now."""
        result: dict[str, float] = self._get("/__stats")
        return result

    def last_headers(self) -> dict[str, str]:
        """Return the lower-cased headers of the last request counted."""
        result: dict[str, str] = self._get("/__last")["headers"]
        return result


if __name__ == "__main__":
    main()
