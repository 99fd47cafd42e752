"""Management tokens: real HS256 JWTs, each with its own ``jti``, so revocation is exact.

A token is accepted when its signature is this emulator's, its lifetime has not run out and
its ``jti`` is still live. Revoking empties the live set, which refuses exactly the tokens
issued before the revocation and none issued after it.
"""

from __future__ import annotations

__all__ = ["TokenIssuer"]

import base64
import binascii
import hashlib
import hmac
import json
import math
import secrets
from typing import Any

_HEADER = {"alg": "HS256", "typ": "JWT"}
_MAX_VERIFIED = 4096


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_ENCODED_HEADER = _b64encode(json.dumps(_HEADER, separators=(",", ":")).encode())


class TokenIssuer:
    """Signs and checks the management tokens of one user pool.

    Not thread-safe by itself: `Emulator` calls it with its lock held.

    Args:
        user_pool_id: the pool the tokens are for, carried in the ``userPoolId`` claim.
        ttl: a token's lifetime in seconds.
    """

    def __init__(self, user_pool_id: str, ttl: float) -> None:
        self.user_pool_id: str = user_pool_id
        self.ttl: float = ttl
        self.key: bytes = secrets.token_bytes(32)
        # jti -> the exact moment it expires. JWT times are whole seconds, so ``exp`` is
        # ``iat`` plus the lifetime rounded up; a token is refused at ``exp`` or at the exact
        # end of its lifetime, whichever comes first, so a test can use a fraction of a second.
        self._live: dict[str, float] = {}
        # token -> its (jti, exp), once its signature was checked: a client sends the same
        # token thousands of times, and checking a signature costs more than the rest of a
        # request. Bounded, as a long benchmark issues many tokens.
        self._verified: dict[str, tuple[str, int]] = {}

    def issue(self, now: float) -> tuple[str, int, int]:
        """Return a new token with its ``exp`` and ``iat``, live from now on."""
        iat = int(now)
        exp = iat + math.ceil(self.ttl)
        jti = secrets.token_hex(16)
        claims = {
            "iss": "authing-mfa-emulator",
            "userPoolId": self.user_pool_id,
            "iat": iat,
            "exp": exp,
            "jti": jti,
        }
        payload = _b64encode(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{_ENCODED_HEADER}.{payload}"
        self._live[jti] = now + self.ttl
        return f"{signing_input}.{self._sign(signing_input)}", exp, iat

    def accepts(self, token: str, now: float) -> bool:
        """Whether *token* is one of ours, unexpired and not revoked."""
        verified = self._verified.get(token)
        if verified is None:
            claims = self._verified_claims(token)
            if claims is None:
                return False
            jti, exp = claims.get("jti"), claims.get("exp")
            if not isinstance(jti, str) or type(exp) is not int:
                return False
            if len(self._verified) >= _MAX_VERIFIED:
                self._verified.clear()
            verified = self._verified[token] = (jti, exp)
        jti, exp = verified
        if now >= exp:
            return False
        expiry = self._live.get(jti)
        if expiry is None:
            return False
        if now >= expiry:
            del self._live[jti]
            return False
        return True

    def revoke_all(self) -> int:
        """Refuse every token issued so far; return how many were still live."""
        count = len(self._live)
        self._live.clear()
        return count

    def _sign(self, signing_input: str) -> str:
        digest = hmac.new(self.key, signing_input.encode("ascii"), hashlib.sha256).digest()
        return _b64encode(digest)

    def _verified_claims(self, token: str) -> dict[str, Any] | None:
        try:
            header, payload, signature = token.split(".")
            signing_input = f"{header}.{payload}"
            expected = self._sign(signing_input)
        except (ValueError, UnicodeEncodeError):
            return None
        if not hmac.compare_digest(expected, signature):
            return None
        # Our own header and payload, since the signature matched: decoding cannot fail
        # unless the key leaked, and then a refusal is still the right answer.
        try:
            if json.loads(_b64decode(header)) != _HEADER:
                return None
            claims = json.loads(_b64decode(payload))
        except (ValueError, binascii.Error):
            return None
        return claims if isinstance(claims, dict) else None
