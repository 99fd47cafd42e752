"""The records the API returns, as frozen attrs classes holding pure data.

The wire format (camelCase keys, ISO timestamps) lives in `_converter`, not here.
"""

from __future__ import annotations

__all__ = ["MfaStatus", "MfaType", "TotpAuthenticator"]

import enum
import types
from collections.abc import Mapping
from datetime import datetime

import attrs

from ._errors import InvalidArgumentError


class MfaType(str, enum.Enum):
    """An MFA factor, as the API names it.

    The official SDKs expose only `OTP` and `FACE`; Authing's API documentation lists all six as
    values the unbind call accepts. Methods that take a factor also accept its name as a string
    in any case (``"otp"``, ``"Face"``).
    """

    OTP = "OTP"
    FACE = "FACE"
    SMS = "SMS"
    EMAIL = "EMAIL"
    FINGERPRINT = "FINGERPRINT"
    TOTP = "TOTP"

    def __str__(self) -> str:
        return self.value


def _read_only(factors: Mapping[str, bool]) -> Mapping[str, bool]:
    return types.MappingProxyType(dict(factors))


@attrs.frozen
class MfaStatus:
    """Which MFA factors a user has bound.

    Attributes:
        factors: every factor the server reported, by the server's name (``"OTP"``, ``"FACE"``,
            and any it adds later, such as ``"SMS"``), in a read-only mapping.
    """

    factors: Mapping[str, bool] = attrs.field(converter=_read_only)

    @property
    def otp(self) -> bool:
        """Whether a one-time-password (TOTP) authenticator is bound."""
        return self.factors.get(MfaType.OTP.value, False)

    @property
    def face(self) -> bool:
        """Whether face recognition is bound."""
        return self.factors.get(MfaType.FACE.value, False)

    def is_bound(self, mfa_type: MfaType | str) -> bool:
        """Return whether the factor *mfa_type* is bound; factors the server left out are not.

        Args:
            mfa_type: an `MfaType`, or a factor's name in any case (``"sms"``); a name the
                server reported but `MfaType` does not know yet is looked up as given too.

        Raises:
            InvalidArgumentError: *mfa_type* is neither an `MfaType` nor a str.
        """
        if isinstance(mfa_type, MfaType):
            return self.factors.get(mfa_type.value, False)
        if not isinstance(mfa_type, str):
            raise InvalidArgumentError(
                f"mfa_type must be an MfaType or a str, not {type(mfa_type).__name__}"
            )
        factors = self.factors
        if mfa_type in factors:
            return factors[mfa_type]
        return factors.get(mfa_type.upper(), False)

    def __eq__(self, other: object) -> bool:
        # MappingProxyType does not compare equal to another proxy of an equal dict.
        if not isinstance(other, MfaStatus):
            return NotImplemented
        return dict(self.factors) == dict(other.factors)

    def __hash__(self) -> int:
        return hash(frozenset(self.factors.items()))


@attrs.frozen(kw_only=True)
class TotpAuthenticator:
    """A TOTP authenticator bound to a user, as the import call returns it.

    Attributes:
        id: the authenticator's id; re-importing for the same user keeps it.
        user_id: the user it belongs to.
        enable: whether TOTP MFA is switched on for the user.
        secret: the base32 key (hidden from ``repr``).
        authenticator_type: ``"totp"``.
        recovery_code: the code that lets the user in without the authenticator (hidden from
            ``repr``).
        created_at: when it was first imported (timezone-aware).
        updated_at: when it was last replaced (timezone-aware).
        source: where the key came from (``"SELF"`` for imported keys), when the server says.
    """

    id: str
    user_id: str
    enable: bool
    secret: str = attrs.field(repr=False)
    authenticator_type: str
    recovery_code: str | None = attrs.field(default=None, repr=False)
    created_at: datetime
    updated_at: datetime
    source: str | None = None
