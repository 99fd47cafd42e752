"""Authing's management MFA wire protocol, as its official SDKs speak it: paths, query, codes.

The client sends these and the emulator (`authing_mfa.testing`) serves them, so each fact is
written once, here, and both sides agree by construction. It holds constants only and imports
nothing of the package.
"""

from __future__ import annotations

__all__ = [
    "ACCESS_TOKEN_QUERY",
    "IMPORT_TOTP_PATH",
    "MFA_BOUND_PATH",
    "MFA_TYPES",
    "NO_PERMISSION",
    "POOL_NOT_FOUND",
    "SUCCESS",
    "TOKEN_PATH",
    "TOKEN_REFUSED",
    "USER_NOT_FOUND",
    "USER_NOT_IN_POOL",
]

# The management token: a GraphQL query with the pool's id and secret, sent without a token.
TOKEN_PATH = "/graphql/v2"  # noqa: S105 - a path
ACCESS_TOKEN_QUERY = (
    "query accessToken($userPoolId: String!, $secret: String!) "  # noqa: S105 - a query
    "{ accessToken(userPoolId: $userPoolId, secret: $secret) { accessToken exp iat } }"
)

# The three operations; ``{user_id}`` is one percent-encoded path segment.
MFA_BOUND_PATH = "/api/v2/users/{user_id}/mfa-bound"  # GET: status; DELETE ?type=: unbind
IMPORT_TOTP_PATH = "/api/v2/mfa/totp/import"  # POST {"userId", "secret", "recoveryCode"?}

# The factor names the unbind call accepts, per Authing's API documentation.
MFA_TYPES = ("OTP", "FACE", "SMS", "EMAIL", "FINGERPRINT", "TOTP")

# The envelope's business codes.
SUCCESS = 200
TOKEN_REFUSED = 2020  # not logged in: the token is missing, invalid, expired or revoked
POOL_NOT_FOUND = 2224
NO_PERMISSION = 1001
USER_NOT_FOUND = 2004
USER_NOT_IN_POOL = 2036
