"""What the raw contenders send and how they read it: the code a user would write by hand.

Every contender, raw or SDK, sends the same request with the same headers: the common headers
of Authing's protocol, the SDK's own ``user-agent`` (so no header differs but the ones each HTTP
library adds by itself) and ``authorization: Bearer <token>``. Every contender reads the answer
the same way, as `parse_envelope` does. The raw contenders fetch their token once, as a
hand-written integration would at start-up; the SDK fetches and caches its own.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any


def _sdk_version() -> str:
    """The SDK's version, read from its ``_version.py`` without importing the package.

    A raw contender's child process must not load the SDK (nor httpx) just to name it in a
    header: that would count their memory and import work against the raw code.
    """
    spec = importlib.util.find_spec("authing_mfa")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("authing_mfa is not installed")
    text = (Path(next(iter(spec.submodule_search_locations))) / "_version.py").read_text("utf-8")
    found = re.search(r"""__version__\s*=\s*["']([^"']+)["']""", text)
    if found is None:
        raise RuntimeError("no __version__ in authing_mfa/_version.py")
    return found.group(1)


__version__ = _sdk_version()
USER_POOL_ID = "bench-pool"
SECRET = "bench-secret"
USER_ID = "bench-user"
STATUS_PATH = f"/api/v2/users/{USER_ID}/mfa-bound"  # an id that needs no percent-encoding
IMPORT_PATH = "/api/v2/mfa/totp/import"
TOKEN_PATH = "/graphql/v2"
TOKEN_QUERY = {
    "query": "query accessToken($userPoolId: String!, $secret: String!) "
    "{ accessToken(userPoolId: $userPoolId, secret: $secret) { accessToken exp iat } }",
    "variables": {"userPoolId": USER_POOL_ID, "secret": SECRET},
}
EXPECTED_STATUS = {"FACE": False, "OTP": True}

# The protocol's common headers an SDK call carries, besides authorization; checked by the harness.
COMMON_HEADERS = {
    "x-authing-userpool-id": USER_POOL_ID,
    "x-authing-request-from": "sdk",
    "x-authing-sdk-version": f"python-authing-mfa:{__version__}",
    "x-authing-lang": "zh-CN",
    "user-agent": f"authing-mfa-python/{__version__}",
}


def headers(token: str) -> dict[str, str]:
    """Return the headers of one REST call made with *token*."""
    return {**COMMON_HEADERS, "authorization": f"Bearer {token}"}


def parse_envelope(content: bytes) -> Any:
    """Read an Authing envelope as every contender does: ``json.loads``, code 200, ``data``."""
    body = json.loads(content)
    if body.get("code") != 200:
        raise RuntimeError(f"the server answered an error: {body!r}")
    return body["data"]


def fetch_token(base_url: str) -> str:
    """Fetch a management token the way a hand-written integration does at start-up."""
    import httpx  # noqa: PLC0415 - the harness's; children fetch with their own library

    answer = httpx.post(base_url + TOKEN_PATH, json=TOKEN_QUERY, headers=COMMON_HEADERS)
    answer.raise_for_status()
    return token_of(answer.content)


def token_of(content: bytes) -> str:
    """Read the token out of the answer to `TOKEN_QUERY`."""
    token: str = json.loads(content)["data"]["accessToken"]["accessToken"]
    return token


def status_path(user_id: str) -> str:
    """Return the path of *user_id*'s status (GET) and unbind (DELETE) calls."""
    return f"/api/v2/users/{user_id}/mfa-bound"


def import_body(index: int) -> dict[str, str]:
    """Return the import request's body for the *index*-th row of a bulk import."""
    return {
        "userId": f"user-{index:06d}",
        "secret": "JBSWY3DPEHPK3PXP",
        "recoveryCode": f"{index:04d}-a1a6-662c-a750",
    }
