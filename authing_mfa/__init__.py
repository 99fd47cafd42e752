"""authing-mfa: Authing's Management MFA API for Python, async first, with a sync facade.

```
from authing_mfa import AsyncMfaClient

async with AsyncMfaClient(user_pool_id="...", secret="...") as mfa:
    status = await mfa.get_status("USER_ID")
```

`authing_mfa.testing` emulates the API locally, for tests and demos.
"""

from ._async_client import AsyncMfaClient
from ._bulk_rows import ImportOutcome, Outcome, TotpRecord, UnbindRecord
from ._errors import (
    ApiError,
    AuthenticationError,
    AuthingMfaError,
    ConnectionError,  # noqa: A004 - ours, documented as such
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
    TimeoutError,  # noqa: A004
    TransportError,
)
from ._hooks import RequestEvent, ResponseEvent
from ._models import MfaStatus, MfaType, TotpAuthenticator
from ._sync_client import MfaClient
from ._version import __version__

__all__ = [
    "ApiError",
    "AsyncMfaClient",
    "AuthenticationError",
    "AuthingMfaError",
    "ConnectionError",
    "ImportOutcome",
    "InvalidArgumentError",
    "MfaClient",
    "MfaStatus",
    "MfaType",
    "NotFoundError",
    "Outcome",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestEvent",
    "ResponseEvent",
    "ResponseValidationError",
    "ServerError",
    "TimeoutError",
    "TotpAuthenticator",
    "TotpRecord",
    "TransportError",
    "UnbindRecord",
    "__version__",
]
