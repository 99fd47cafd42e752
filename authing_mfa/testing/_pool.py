"""`PoolState`: one Authing user pool held in memory, and what the API does to it.

The state is guarded by one `threading.Lock`, taken only for dictionary-sized moments and never
across an ``await``, so the server may run in another thread (or event loop) while a test
thread adds faults or reads the journal. The app (`_app`) serves requests with the methods
here; `Emulator` drives the same state for tests.
"""

from __future__ import annotations

__all__ = ["PoolState", "Totp"]

import hmac
import threading
import time
from typing import Any

import attrs

from authing_mfa._protocol import NO_PERMISSION, POOL_NOT_FOUND, TOKEN_PATH

from ._faults import Fault, FaultQueue
from ._ids import iso_millis, new_object_id, new_recovery_code
from ._request_log import RecordedRequest
from ._tokens import TokenIssuer

# Unbinding either name removes the TOTP key: the API docs list both as accepted values.
_OTP_NAMES = frozenset({"OTP", "TOTP"})
_TOKEN_PATH = TOKEN_PATH.encode("ascii")


@attrs.define
class Totp:
    """A user's imported TOTP authenticator."""

    id: str
    secret: str = attrs.field(repr=False)
    recovery_code: str = attrs.field(repr=False)
    created_ms: int
    updated_ms: int

    def to_json(self, user_id: str) -> dict[str, Any]:
        """Return the record as the import call answers it."""
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


def bindings(totp: Totp | None) -> dict[str, bool]:
    """Return the factors a user with *totp* has bound, as the status call answers them."""
    # Only OTP can be bound through this API (by importing a TOTP key); FACE is always
    # reported, as the real server does for a user without it.
    return {"FACE": False, "OTP": totp is not None}


class PoolState:
    """The users, tokens, faults and journal of one pool; every access holds `lock`.

    Attributes:
        user_pool_id: the pool's id.
        secret: the pool's secret.
        tokens: signs and checks its management tokens.
        users: each user's TOTP authenticator, or ``None`` when OTP is not bound.
        faults: the faults still to apply.
        journal: every API request received, oldest first.
        token_requests: ``POST /graphql/v2`` requests since the last reset.
        lock: guards everything above.
    """

    def __init__(self, user_pool_id: str, secret: str, tokens: TokenIssuer) -> None:
        self.user_pool_id: str = user_pool_id
        self.secret: str = secret
        self.tokens: TokenIssuer = tokens
        self.users: dict[str, Totp | None] = {}
        self.faults: FaultQueue = FaultQueue()
        self.journal: list[RecordedRequest] = []
        self.token_requests: int = 0
        self.lock: threading.Lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PoolState(user_pool_id={self.user_pool_id!r}, users={len(self.users)})"

    def arrive(self, request: RecordedRequest) -> Fault | None:
        """Journal *request* and return the fault to apply to it, if any."""
        with self.lock:
            self.journal.append(request)
            if request.raw_path == _TOKEN_PATH and request.method == "POST":
                self.token_requests += 1
            # Most requests meet no fault at all; skip the matching entirely then.
            if not self.faults:
                return None
            return self.faults.take(request.method, request.raw_path.decode("latin-1"))

    def credentials_error(self, user_pool_id: str, secret: str) -> tuple[int, str] | None:
        """Return the GraphQL error for these credentials, or ``None`` if they are this pool's."""
        if user_pool_id != self.user_pool_id:
            return POOL_NOT_FOUND, "用户池不存在"
        if not hmac.compare_digest(secret.encode(), self.secret.encode()):
            # The answer for a wrong secret is not documented; "no permission" keeps it apart
            # from an unknown pool, which is documented.
            return NO_PERMISSION, "用户池密钥错误"
        return None

    def issue_token(self) -> tuple[str, int, int]:
        """Return a new management token with its ``exp`` and ``iat``."""
        with self.lock:
            return self.tokens.issue(time.time())

    def accepts_token(self, token: str) -> bool:
        """Whether *token* is live: this pool's, unexpired and not revoked."""
        with self.lock:
            return self.tokens.accepts(token, time.time())

    def mfa_bound(self, user_id: str) -> dict[str, bool] | None:
        """Return the user's bound factors, or ``None`` for an unknown user."""
        with self.lock:
            if user_id not in self.users:
                return None
            return bindings(self.users[user_id])

    def unbind(self, user_id: str, factor: str) -> bool:
        """Unbind *factor* from the user; return False for an unknown user."""
        with self.lock:
            if user_id not in self.users:
                return False
            if factor in _OTP_NAMES:
                self.users[user_id] = None
            return True

    def import_totp(
        self, user_id: str, secret: str, recovery_code: str | None
    ) -> dict[str, Any] | None:
        """Give the user this key (replacing any); return the record, ``None`` if unknown."""
        with self.lock:
            if user_id not in self.users:
                return None
            now = int(time.time() * 1000)
            code = recovery_code if recovery_code is not None else new_recovery_code()
            totp = self.users[user_id]
            if totp is None:
                totp = Totp(new_object_id(), secret, code, now, now)
                self.users[user_id] = totp
            else:
                totp.secret, totp.recovery_code = secret, code
                # A re-import within the same millisecond still gets a later updatedAt.
                totp.updated_ms = max(now, totp.updated_ms + 1)
            return totp.to_json(user_id)
