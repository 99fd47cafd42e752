"""The public API is spelled out in authing_mfa/__init__.py, and the two clients match."""

from __future__ import annotations

import inspect

import pytest

import authing_mfa
from authing_mfa import AsyncMfaClient, MfaClient


def test_all_is_sorted_and_complete():
    """__all__ is sorted and names exactly the public names the package defines."""
    assert authing_mfa.__all__ == sorted(authing_mfa.__all__)
    # pytest rewrites the asserts of a package that ships a pytest plugin, as this one does,
    # and leaves its helpers (`@py_builtins`, `@pytest_ar`) in each module: not identifiers.
    public = {
        name for name in vars(authing_mfa) if name.isidentifier() and not name.startswith("_")
    }
    public -= {"testing"}  # a subpackage, imported on demand
    assert public | {"__version__"} == set(authing_mfa.__all__)


def test_every_public_name_has_a_docstring():
    """Every exported class and each of its public methods teaches through a docstring."""
    for name in authing_mfa.__all__:
        obj = getattr(authing_mfa, name)
        if inspect.isclass(obj):
            assert obj.__doc__, name
            for member_name, member in vars(obj).items():
                if not member_name.startswith("_") and callable(member):
                    assert member.__doc__, f"{name}.{member_name}"


@pytest.mark.parametrize(
    ("async_name", "sync_name"),
    [
        ("__init__", "__init__"),
        ("get_status", "get_status"),
        ("unassociate_mfa", "unassociate_mfa"),
        ("import_totp", "import_totp"),
        ("aclose", "close"),
    ],
)
def test_sync_and_async_signatures_match(async_name, sync_name):
    """The blocking client's methods take exactly the async client's parameters."""
    async_signature = inspect.signature(getattr(AsyncMfaClient, async_name))
    sync_signature = inspect.signature(getattr(MfaClient, sync_name))
    assert list(async_signature.parameters.values()) == list(sync_signature.parameters.values())
    if async_name != "__init__":
        assert async_signature.return_annotation == sync_signature.return_annotation
