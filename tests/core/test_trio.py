"""The async client runs under trio as well as asyncio."""

from __future__ import annotations

import pytest
from support.fakes import AUTHENTICATOR, envelope

trio = pytest.importorskip("trio")


def test_the_three_operations_under_trio(api, make_client):
    """get_status, unassociate_mfa and import_totp work inside trio.run, with one token."""
    api.get("/api/v2/users/u1/mfa-bound").mock(return_value=envelope({"OTP": True}))
    api.delete("/api/v2/users/u1/mfa-bound").mock(return_value=envelope(None))
    api.post("/api/v2/mfa/totp/import").mock(return_value=envelope(AUTHENTICATOR))
    statuses, results = [], []

    async def main():
        async with make_client() as mfa, trio.open_nursery() as nursery:

            async def status():
                statuses.append(await mfa.get_status("u1"))

            for _ in range(10):
                nursery.start_soon(status)
            results.append(await mfa.unassociate_mfa("u1", "otp"))
            results.append(await mfa.import_totp("u1", "JBSWY3DPEHPK3PXP"))

    trio.run(main)
    assert [status.otp for status in statuses] == [True] * 10
    assert results[0] is True
    assert results[1].user_id == AUTHENTICATOR["userId"]
    assert api["token"].call_count == 1
