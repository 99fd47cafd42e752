"""The records: read-only, complete, timezone-aware; their wire format lives in the converter."""

from __future__ import annotations

import attrs
import pytest
from support.fakes import AUTHENTICATOR, envelope

from authing_mfa import MfaStatus, MfaType, ResponseValidationError, TotpAuthenticator


@pytest.mark.asyncio
async def test_status_keeps_every_factor_the_server_returned(api, make_client):
    """A factor the client does not know (SMS) is kept, and absent factors read as unbound."""
    api.get("/api/v2/users/u1/mfa-bound").mock(return_value=envelope({"SMS": True, "OTP": True}))
    async with make_client() as mfa:
        status = await mfa.get_status("u1")
    assert dict(status.factors) == {"SMS": True, "OTP": True}
    assert status.otp
    assert not status.face
    assert status.is_bound(MfaType.SMS)
    assert not status.is_bound(MfaType.EMAIL)


def test_status_factors_are_read_only():
    """Neither the record nor its mapping can be changed."""
    source = {"OTP": True}
    status = MfaStatus(source)
    source["OTP"] = False
    assert status.otp
    with pytest.raises(TypeError):
        status.factors["OTP"] = False  # type: ignore[index]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        status.factors = {}  # type: ignore[misc]


def test_statuses_compare_and_hash_by_factors():
    """Equal factors make equal, equally hashed statuses."""
    assert MfaStatus({"OTP": True}) == MfaStatus({"OTP": True})
    assert MfaStatus({"OTP": True}) != MfaStatus({"OTP": False})
    assert hash(MfaStatus({"OTP": True, "FACE": False})) == hash(
        MfaStatus({"FACE": False, "OTP": True})
    )
    assert MfaStatus({}) != object()


@pytest.mark.asyncio
async def test_authenticator_has_every_field_with_aware_datetimes(api, make_client):
    """All fields arrive, timestamps timezone-aware, unknown keys ignored."""
    api.post("/api/v2/mfa/totp/import").mock(
        return_value=envelope(AUTHENTICATOR | {"newField": [1, 2]})
    )
    async with make_client() as mfa:
        totp = await mfa.import_totp("u1", "JBSWY3DPEHPK3PXP")
    assert attrs.asdict(totp) | {"created_at": None, "updated_at": None} == {
        "id": "61dfdb82b3f67714c88cc855",
        "user_id": "61de786b31d27307c7ce66c3",
        "enable": True,
        "secret": "JBSWY3DPEHPK3PXP",
        "authenticator_type": "totp",
        "recovery_code": "8477-a1a6-662c-a750-bbb4-72a9",
        "created_at": None,
        "updated_at": None,
        "source": "SELF",
    }
    assert totp.created_at.utcoffset().total_seconds() == 0
    assert totp.created_at.isoformat() == "2022-01-13T07:57:54.073000+00:00"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        totp.secret = "x"  # type: ignore[misc]


@pytest.mark.asyncio
async def test_optional_fields_may_be_missing(api, make_client):
    """source and recoveryCode may be absent; a naive timestamp is read as UTC."""
    data = {k: v for k, v in AUTHENTICATOR.items() if k not in {"source", "recoveryCode"}}
    data["updatedAt"] = "2022-01-13T08:00:00"
    api.post("/api/v2/mfa/totp/import").mock(return_value=envelope(data))
    async with make_client() as mfa:
        totp = await mfa.import_totp("u1", "JBSWY3DPEHPK3PXP")
    assert totp.source is None
    assert totp.recovery_code is None
    assert totp.updated_at.tzinfo is not None


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"userId": None}, "userId: expected str, got NoneType"),
        ({"enable": "true"}, "enable: expected bool, got str"),
        ({"createdAt": "yesterday"}, "createdAt: not a valid value"),
        ({"updatedAt": 1642060674}, "updatedAt: expected an ISO 8601 string"),
        ({"id": None, "secret": 7}, "id: expected str.*secret: expected str"),
    ],
)
async def test_a_malformed_authenticator_names_the_field(api, make_client, change, message):
    """A wrong field raises ResponseValidationError naming it by its wire name."""
    api.post("/api/v2/mfa/totp/import").mock(return_value=envelope(AUTHENTICATOR | change))
    async with make_client() as mfa:
        with pytest.raises(ResponseValidationError, match=message):
            await mfa.import_totp("u1", "JBSWY3DPEHPK3PXP")


@pytest.mark.asyncio
@pytest.mark.parametrize("data", [None, [], "ok"])
async def test_data_of_the_wrong_shape_is_a_validation_error(api, make_client, data):
    """An envelope whose data is not an object raises ResponseValidationError for both records."""
    api.post("/api/v2/mfa/totp/import").mock(return_value=envelope(data))
    api.get("/api/v2/users/u1/mfa-bound").mock(return_value=envelope(data))
    async with make_client() as mfa:
        with pytest.raises(ResponseValidationError, match="TotpAuthenticator: expected an object"):
            await mfa.import_totp("u1", "JBSWY3DPEHPK3PXP")
        with pytest.raises(ResponseValidationError, match="MfaStatus: expected an object"):
            await mfa.get_status("u1")


def test_mfa_type_values_are_the_api_names():
    """MfaType holds exactly the six factor names the API accepts."""
    assert [t.value for t in MfaType] == ["OTP", "FACE", "SMS", "EMAIL", "FINGERPRINT", "TOTP"]
    assert str(MfaType.OTP) == "OTP"
    assert isinstance(TotpAuthenticator, type)
