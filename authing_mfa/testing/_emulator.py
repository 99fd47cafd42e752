"""`Emulator`: one Authing user pool in memory, and the methods tests drive it by.

Its state is a `PoolState` (`_pool`), which the app serves from; every method here holds the
state's lock only for dictionary-sized moments, so it may be called from any thread.
"""

from __future__ import annotations

__all__ = ["DEFAULT_TOKEN_TTL", "Emulator"]

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._app import EmulatorApp
from ._faults import Fault, FaultMethods, fault_from_json
from ._ids import new_object_id, new_secret
from ._in_process import EmulatorTransport
from ._pool import PoolState, bindings
from ._tokens import TokenIssuer

if TYPE_CHECKING:
    import httpx

DEFAULT_TOKEN_TTL = 7 * 86400.0


class Emulator(FaultMethods):
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
        self._state = PoolState(
            self.user_pool_id, self.secret, TokenIssuer(self.user_pool_id, token_ttl)
        )
        self.app: EmulatorApp = EmulatorApp(self._state, control=self)
        """The ASGI app serving the API and the control API; one behaviour for both modes."""
        self.add_users(users)

    def __repr__(self) -> str:
        return f"Emulator(user_pool_id={self.user_pool_id!r}, users={len(self._state.users)})"

    @property
    def token_ttl(self) -> float:
        """The lifetime of the tokens it issues, in seconds."""
        return self._state.tokens.ttl

    @property
    def signing_key(self) -> bytes:
        """The HS256 key its tokens are signed with, for tests that verify a token themselves."""
        return self._state.tokens.key

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
        with self._state.lock:
            for user_id in ids:
                self._state.users.setdefault(user_id, None)
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
        with self._state.lock:
            if user_id not in self._state.users:
                return None
            totp = self._state.users[user_id]
        return {
            "userId": user_id,
            "mfaBound": bindings(totp),
            "totp": None if totp is None else totp.to_json(user_id),
        }

    # Faults ----------------------------------------------------------------------------------

    def add_faults(self, faults: Iterable[Fault | Mapping[str, Any]]) -> list[Fault]:
        """Queue several faults, given as `Fault` or as the control API's camelCase objects.

        All are checked before any is queued.

        Raises:
            ValueError: a fault is malformed.
        """
        checked = [item if isinstance(item, Fault) else fault_from_json(item) for item in faults]
        with self._state.lock:
            for fault in checked:
                self._state.faults.add(fault)
        return checked

    def clear_faults(self) -> None:
        """Forget every fault not yet applied."""
        with self._state.lock:
            self._state.faults.clear()

    # Tokens ----------------------------------------------------------------------------------

    def revoke_tokens(self) -> int:
        """Refuse every token issued so far (later ones are fine); return how many were live."""
        with self._state.lock:
            return self._state.tokens.revoke_all()

    @property
    def token_requests(self) -> int:
        """How many ``POST /graphql/v2`` requests arrived (faulted too) since the last reset."""
        with self._state.lock:
            return self._state.token_requests

    # Journal ---------------------------------------------------------------------------------

    def requests(self) -> list[dict[str, Any]]:
        """Return the journal, oldest first: ``{"method", "path", "query", "headers", "body"}``.

        Faulted and dropped requests are included; control API requests are not. ``path`` is
        still percent-encoded; the authorization value and body secrets are masked ``***``.
        """
        with self._state.lock:
            recorded = list(self._state.journal)
        return [request.to_json() for request in recorded]

    def clear_requests(self) -> None:
        """Empty the journal."""
        with self._state.lock:
            self._state.journal.clear()

    def stats(self) -> dict[str, int]:
        """Return counters: ``{"tokenRequests", "requests", "users"}``."""
        state = self._state
        with state.lock:
            return {
                "tokenRequests": state.token_requests,
                "requests": len(state.journal),
                "users": len(state.users),
            }

    def reset(self) -> None:
        """Forget users, faults, the journal and the token request count.

        The pool id, secret and signing key stay, and so do issued tokens: a client's cached
        token keeps working across a reset (use `revoke_tokens` to refuse it).
        """
        state = self._state
        with state.lock:
            state.users.clear()
            state.faults.clear()
            state.journal.clear()
            state.token_requests = 0
