"""`Emulator`: the in-memory state of one Authing user pool, and the methods tests drive it by.

The state is guarded by one `threading.Lock`, taken only for dictionary-sized moments and never
across an ``await``, so the server may run in another thread (or event loop) while a test
thread adds faults or reads the journal.
"""

from __future__ import annotations

__all__ = ["DEFAULT_TOKEN_TTL", "Emulator"]

import hmac
import math
import threading
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ._app import EmulatorApp
from ._faults import Action, Fault, FaultQueue, fault_from_json
from ._ids import iso_millis, new_object_id, new_recovery_code, new_secret
from ._tokens import TokenIssuer
from ._transport import EmulatorTransport

if TYPE_CHECKING:
    import httpx

    from ._journal import RecordedRequest

DEFAULT_TOKEN_TTL = 7 * 86400.0
# Unbinding either name removes the TOTP key: the API docs list both as accepted values.
_OTP_NAMES = frozenset({"OTP", "TOTP"})
_TOKEN_PATH = b"/graphql/v2"


@attrs.define
class _Totp:
    id: str
    secret: str = attrs.field(repr=False)
    recovery_code: str = attrs.field(repr=False)
    created_ms: int
    updated_ms: int

    def to_json(self, user_id: str) -> dict[str, Any]:
        # Key order as the real server sends it.
        return {
            "userId": user_id,
            "enable": True,
            "secret": self.secret,
            "authenticatorType": "totp",
            "recoveryCode": self.recovery_code,
            "createdAt": iso_millis(self.created_ms),
            "updatedAt": iso_millis(self.updated_ms),
            "id": self.id,
            "source": "SELF",
        }


class Emulator:
    """One Authing user pool in memory: its users, their MFA, tokens, faults and a journal.

    ::

        emulator = Emulator(users=["alice"])
        async with httpx.AsyncClient(transport=emulator.transport(), base_url="http://e") as http:
            ...

    Args:
        user_pool_id: the pool's id; a fresh 24-hex-digit id when not given.
        secret: the pool's secret; a fresh random one when not given.
        token_ttl: the lifetime of the management tokens it issues, in seconds (a week by
            default; a fraction of a second is fine in tests).
        users: ids of users to create at once.

    Lifetime and concurrency: ``app`` serves this state for as long as the object lives, in
    process (`transport`) or behind `run_server`. Every method may be called from any thread
    while requests are being served in another.
    """

    def __init__(
        self,
        user_pool_id: str | None = None,
        secret: str | None = None,
        *,
        token_ttl: float = DEFAULT_TOKEN_TTL,
        users: Iterable[str] = (),
    ) -> None:
        if isinstance(token_ttl, bool) or not 0 <= token_ttl < math.inf:
            raise ValueError(
                f"token_ttl must be a finite number of seconds >= 0, not {token_ttl!r}"
            )
        self.user_pool_id: str = user_pool_id or new_object_id()
        self.secret: str = secret or new_secret()
        self._lock = threading.Lock()
        self._tokens = TokenIssuer(self.user_pool_id, token_ttl)
        self._users: dict[str, _Totp | None] = {}
        self._faults = FaultQueue()
        self._journal: list[RecordedRequest] = []
        self._token_requests = 0
        self.app: EmulatorApp = EmulatorApp(self)
        """The ASGI app serving the API and the control API; one behaviour for both modes."""
        self.add_users(users)

    def __repr__(self) -> str:
        return f"Emulator(user_pool_id={self.user_pool_id!r}, users={len(self._users)})"

    @property
    def token_ttl(self) -> float:
        """The lifetime of the tokens it issues, in seconds."""
        return self._tokens.ttl

    @property
    def signing_key(self) -> bytes:
        """The HS256 key its tokens are signed with, for tests that verify a token themselves."""
        return self._tokens.key

    def transport(self) -> httpx.AsyncBaseTransport:
        """Return an httpx transport that runs ``app`` in process, with any base URL.

        A fault's ``drop`` raises `httpx.RemoteProtocolError` as a real server's would, and a
        request running longer than its read timeout raises `httpx.ReadTimeout`.
        """
        return EmulatorTransport(self.app)

    # Users -----------------------------------------------------------------------------------

    def add_users(self, user_ids: Iterable[str]) -> list[str]:
        """Create users with these ids (existing ones are left as they are); return the ids.

        Raises:
            ValueError: an id is not a non-empty string.
        """
        ids = list(user_ids)
        for user_id in ids:
            if not isinstance(user_id, str) or not user_id:
                raise ValueError(f"a user id must be a non-empty str, not {user_id!r}")
        with self._lock:
            for user_id in ids:
                self._users.setdefault(user_id, None)
        return ids

    def create_users(self, count: int) -> list[str]:
        """Create *count* users with fresh ids like Authing's; return their ids."""
        if type(count) is not int or count < 0:
            raise ValueError(f"count must be an int >= 0, not {count!r}")
        return self.add_users(new_object_id() for _ in range(count))

    def user(self, user_id: str) -> dict[str, Any] | None:
        """Return a user's MFA as the control API shows it, or ``None`` for an unknown user.

        The shape is ``{"userId", "mfaBound": {"FACE", "OTP"}, "totp": record or None}``, the
        record being what the import answered, secret included.
        """
        with self._lock:
            if user_id not in self._users:
                return None
            totp = self._users[user_id]
        return {
            "userId": user_id,
            "mfaBound": _bindings(totp),
            "totp": None if totp is None else totp.to_json(user_id),
        }

    # Faults ----------------------------------------------------------------------------------

    def add_fault(
        self,
        *,
        path: str = "*",
        method: str | None = None,
        times: int | None = 1,
        status: int | None = None,
        retry_after: float | str | None = None,
        delay: float = 0.0,
        action: Action = "respond",
    ) -> Fault:
        """Misbehave for the next *times* requests matching *method* and *path*; see `Fault`."""
        fault = Fault(
            path=path,
            method=method,
            times=times,
            status=status,
            retry_after=retry_after,
            delay=delay,
            action=action,
        )
        self.add_faults([fault])
        return fault

    def add_faults(self, faults: Iterable[Fault | Mapping[str, Any]]) -> list[Fault]:
        """Queue several faults, given as `Fault` or as the control API's camelCase objects.

        All are checked before any is queued.

        Raises:
            ValueError: a fault is malformed.
        """
        checked = [item if isinstance(item, Fault) else fault_from_json(item) for item in faults]
        with self._lock:
            for fault in checked:
                self._faults.add(fault)
        return checked

    def clear_faults(self) -> None:
        """Forget every fault not yet applied."""
        with self._lock:
            self._faults.clear()

    # Tokens ----------------------------------------------------------------------------------

    def revoke_tokens(self) -> int:
        """Refuse every token issued so far (later ones are fine); return how many were live."""
        with self._lock:
            return self._tokens.revoke_all()

    @property
    def token_requests(self) -> int:
        """How many ``POST /graphql/v2`` requests arrived (faulted too) since the last reset."""
        with self._lock:
            return self._token_requests

    # Journal ---------------------------------------------------------------------------------

    def requests(self) -> list[dict[str, Any]]:
        """Return the journal, oldest first: ``{"method", "path", "query", "headers", "body"}``.

        Faulted and dropped requests are included; control API requests are not. ``path`` is
        still percent-encoded; the authorization value and body secrets are masked ``***``.
        """
        with self._lock:
            recorded = list(self._journal)
        return [request.to_json() for request in recorded]

    def clear_requests(self) -> None:
        """Empty the journal."""
        with self._lock:
            self._journal.clear()

    def stats(self) -> dict[str, int]:
        """Return counters: ``{"tokenRequests", "requests", "users"}``."""
        with self._lock:
            return {
                "tokenRequests": self._token_requests,
                "requests": len(self._journal),
                "users": len(self._users),
            }

    def reset(self) -> None:
        """Forget users, faults, the journal and the token request count.

        The pool id, secret and signing key stay, and so do issued tokens: a client's cached
        token keeps working across a reset (use `revoke_tokens` to refuse it).
        """
        with self._lock:
            self._users.clear()
            self._faults.clear()
            self._journal.clear()
            self._token_requests = 0

    # What the app calls, one short lock each -------------------------------------------------

    def _arrive(self, request: RecordedRequest) -> Fault | None:
        """Journal *request* and return the fault to apply to it, if any."""
        with self._lock:
            self._journal.append(request)
            if request.raw_path == _TOKEN_PATH and request.method == "POST":
                self._token_requests += 1
            # Most requests meet no fault at all; skip the matching entirely then.
            if not self._faults:
                return None
            return self._faults.take(request.method, request.raw_path.decode("latin-1"))

    def _credentials_error(self, user_pool_id: str, secret: str) -> tuple[int, str] | None:
        if user_pool_id != self.user_pool_id:
            return 2224, "用户池不存在"
        if not hmac.compare_digest(secret.encode(), self.secret.encode()):
            return 1001, "用户池密钥错误"
        return None

    def _issue_token(self) -> tuple[str, int, int]:
        with self._lock:
            return self._tokens.issue(time.time())

    def _accepts_token(self, token: str) -> bool:
        with self._lock:
            return self._tokens.accepts(token, time.time())

    def _mfa_bound(self, user_id: str) -> dict[str, bool] | None:
        with self._lock:
            if user_id not in self._users:
                return None
            return _bindings(self._users[user_id])

    def _unbind(self, user_id: str, factor: str) -> bool:
        with self._lock:
            if user_id not in self._users:
                return False
            if factor in _OTP_NAMES:
                self._users[user_id] = None
            return True

    def _import_totp(
        self, user_id: str, secret: str, recovery_code: str | None
    ) -> dict[str, Any] | None:
        with self._lock:
            if user_id not in self._users:
                return None
            now = int(time.time() * 1000)
            code = recovery_code if recovery_code is not None else new_recovery_code()
            totp = self._users[user_id]
            if totp is None:
                totp = _Totp(new_object_id(), secret, code, now, now)
                self._users[user_id] = totp
            else:
                totp.secret, totp.recovery_code = secret, code
                # A re-import within the same millisecond still gets a later updatedAt.
                totp.updated_ms = max(now, totp.updated_ms + 1)
            return totp.to_json(user_id)


def _bindings(totp: _Totp | None) -> dict[str, bool]:
    # Only OTP can be bound through this API (by importing a TOTP key); FACE is always
    # reported, as the real server does for a user without it.
    return {"FACE": False, "OTP": totp is not None}
