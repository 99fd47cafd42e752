"""`EmulatorControl`: the control API over HTTP, for an emulator running in another process."""

from __future__ import annotations

__all__ = ["EmulatorControl"]

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from ._faults import Fault, FaultMethods, fault_to_json

if TYPE_CHECKING:
    from typing_extensions import Self


class EmulatorControl(FaultMethods):
    """Drives an emulator through its control API, with the methods `Emulator` has.

    ::

        with EmulatorControl("http://127.0.0.1:8765") as control:
            control.add_fault(path="/graphql/v2", status=503)

    Args:
        url: the emulator's base URL.
        timeout: seconds to wait for each control call.

    Lifetime and concurrency: it holds one `httpx.Client`; close it (or use ``with``). It
    may be shared between threads. Proxies from the environment are ignored: the emulator is
    on this machine.
    """

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url: str = url.rstrip("/")
        # The emulator serves plain HTTP, so there is no certificate to check, and loading the
        # CA bundle would cost a fifth of a second per client.
        self._http = httpx.Client(
            base_url=f"{self.url}/__emulator__",
            timeout=timeout,
            trust_env=False,
            verify=False,  # noqa: S501
        )

    def __repr__(self) -> str:
        return f"EmulatorControl({self.url!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _call(self, method: str, path: str, body: object = None) -> Any:  # noqa: ANN401 - JSON
        response = self._http.request(method, path, json=body)
        if response.status_code == 400:  # noqa: PLR2004
            # Mirror `Emulator`, whose methods raise ValueError for what the API answers 400.
            raise ValueError(response.json().get("error", response.text))
        response.raise_for_status()
        return response.json()

    def add_users(self, user_ids: Iterable[str]) -> list[str]:
        """Create users with these ids (existing ones are left as they are); return the ids."""
        result: list[str] = self._call("POST", "/users", {"userIds": list(user_ids)})["userIds"]
        return result

    def create_users(self, count: int) -> list[str]:
        """Create *count* users with fresh ids; return their ids."""
        result: list[str] = self._call("POST", "/users", {"count": count})["userIds"]
        return result

    def user(self, user_id: str) -> dict[str, Any] | None:
        """Return a user's MFA as ``{"userId", "mfaBound", "totp"}``, ``None`` if unknown."""
        response = self._http.get(f"/users/{quote(user_id, safe='')}")
        if response.status_code == 404:  # noqa: PLR2004
            return None
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def add_faults(self, faults: Iterable[Fault | Mapping[str, Any]]) -> None:
        """Queue several faults, as `Fault` or as camelCase objects; all or none are queued."""
        body = [fault_to_json(item) if isinstance(item, Fault) else dict(item) for item in faults]
        self._call("POST", "/faults", {"faults": body})

    def clear_faults(self) -> None:
        """Forget every fault not yet applied."""
        self._call("DELETE", "/faults")

    def revoke_tokens(self) -> int:
        """Refuse every token issued so far; return how many were live."""
        revoked: int = self._call("POST", "/tokens/revoke")["revoked"]
        return revoked

    def requests(self) -> list[dict[str, Any]]:
        """Return the journal, oldest first, masked as `Emulator.requests` describes."""
        journal: list[dict[str, Any]] = self._call("GET", "/requests")["requests"]
        return journal

    def clear_requests(self) -> None:
        """Empty the journal."""
        self._call("DELETE", "/requests")

    def stats(self) -> dict[str, int]:
        """Return counters: ``{"tokenRequests", "requests", "users"}``."""
        result: dict[str, int] = self._call("GET", "/stats")
        return result

    @property
    def token_requests(self) -> int:
        """How many ``POST /graphql/v2`` requests arrived since the last reset."""
        return self.stats()["tokenRequests"]

    def reset(self) -> None:
        """Forget users, faults, the journal and the token request count."""
        self._call("POST", "/reset")
