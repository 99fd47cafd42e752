"""The journal of requests the emulator received, and the masking that keeps secrets out of it.

Requests are stored as received and turned into JSON-ready entries only when read, so
recording costs a request almost nothing. On the way out the ``authorization`` value and every
``secret`` and ``recoveryCode`` field of a JSON body are masked as ``***``: a test that dumps the
journal into its failure output cannot leak a credential.
"""

from __future__ import annotations

__all__ = ["MASK", "RecordedRequest"]

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

MASK = "***"
_MASKED_FIELDS = frozenset({"secret", "recoveryCode"})


def _masked(value: Any) -> Any:  # noqa: ANN401 - any JSON value
    if isinstance(value, dict):
        return {
            key: MASK if key in _MASKED_FIELDS and item is not None else _masked(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def _masked_authorization(value: str) -> str:
    scheme, space, _ = value.partition(" ")
    return f"{scheme} {MASK}" if space else MASK


class RecordedRequest(NamedTuple):
    """One request as it reached the emulator: method, raw path and query, headers, body.

    A named tuple, not an attrs class: one is built for every request served.
    """

    method: str
    raw_path: bytes
    query: bytes
    headers: Sequence[tuple[bytes, bytes]]
    body: bytes

    def __repr__(self) -> str:
        # The body may carry a secret; the journal shows it masked through to_json only.
        return f"RecordedRequest({self.method} {self.raw_path.decode('latin-1')})"

    def to_json(self) -> dict[str, Any]:
        """Return the journal entry: ``{"method", "path", "query", "headers", "body"}``, masked.

        ``path`` and ``query`` are exactly as received (still percent-encoded); header names are
        lower-case, repeated headers joined with ``", "``; ``body`` is the parsed JSON, else the
        text, else ``None`` when empty.
        """
        headers: dict[str, str] = {}
        for raw_name, raw_value in self.headers:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            if name == "authorization":
                value = _masked_authorization(value)
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return {
            "method": self.method,
            "path": self.raw_path.decode("latin-1"),
            "query": self.query.decode("latin-1"),
            "headers": headers,
            "body": self._body_json(),
        }

    def _body_json(self) -> Any:  # noqa: ANN401 - any JSON value
        if not self.body:
            return None
        try:
            return _masked(json.loads(self.body))
        except ValueError:
            return self.body.decode("utf-8", errors="replace")
