"""``import-totp --from FILE``: a whole migration, with progress, journal and resume.

The rows are TOTP keys (`_row_file.TOTP_COLUMNS`); `_file_run` reads, checks, sends, journals
and reports them, and its docstring says why a killed run loses no row and imports none twice:
an import replaces the user's key with the same key, so a row in flight at a kill is simply
sent again. A row is invalid, besides what `_file_run` and `_row_file` list, when its key is
not base32 or is an otpauth URI Authing cannot use, and when its user id was already seen
earlier in the file (two keys for one user: which one is meant?). No output, journal line or
failures-file line ever holds a key or a recovery code.
"""

from __future__ import annotations

__all__ = ["ImportCommand", "ImportOptions", "run_import_file"]

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, TextIO

from authing_mfa._async_client import AsyncMfaClient
from authing_mfa._bulk_rows import ImportOutcome, RowNames, TotpRecord, check_record

from ._file_run import Command, FileOptions, run_file
from ._journal import IMPORTED
from ._row_file import TOTP_COLUMNS

if TYPE_CHECKING:
    from authing_mfa._bulk import BulkStream

FILE_NAMES = RowNames("userId", "secret", "recoveryCode")

ImportOptions = FileOptions
"""What ``import-totp --from`` was asked to do."""


class ImportCommand(Command):
    """``import-totp --from``: each row's key imported for its user."""

    name = "import-totp"
    columns = TOTP_COLUMNS
    done = IMPORTED
    verbs = ("would import", "imported")
    refused = "may not import keys"

    def check(self, values: tuple[object, ...]) -> TotpRecord:
        """Return the row as it will be sent: the key as base32, the code checked."""
        return check_record(TotpRecord(*values), FILE_NAMES)  # type: ignore[arg-type]

    def user_id(self, record: TotpRecord) -> str:
        """Return the row's user id."""
        return record.user_id

    def secrets(self, record: TotpRecord) -> Iterable[str]:
        """Return the row's key and recovery code."""
        return (record.secret, record.recovery_code or "")

    def send(
        self,
        client: AsyncMfaClient,
        records: Iterator[TotpRecord],
        *,
        concurrency: int,
        rate_limit: float | None,
    ) -> BulkStream[ImportOutcome]:
        """Return ``import_totp_many`` over *records*."""
        return client.import_totp_many(records, concurrency=concurrency, rate_limit=rate_limit)


def run_import_file(
    options: FileOptions, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run ``import-totp --from``; return the exit code (0 all imported, 1 some not, 2 usage).

    *out* and *err* default to the standard streams of the moment of the call. Exit code 2
    also ends a run stopped by refused credentials (see `_file_run`).
    """
    return run_file(ImportCommand(), options, out, err)
