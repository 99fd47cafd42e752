"""The ``authing-mfa`` command line: every command, and what only the command line needs.

- `_main`: the argument parser and the dispatch to each command;
- `_one_user`: ``status``, ``unbind`` and ``import-totp`` for one ``USER_ID``;
- `_file_run`: every command's ``--from FILE``, in one engine: it reads the rows with
  `_row_file` (which splits the input into bounded lines with `_lines`), records them in a
  `_journal`, shows `_progress`, and remembers user ids and line numbers in the compact tables
  of `_intmap`; what each command adds is its own module: `_import_file` (``import-totp``, a
  migration), `_status_file` (``status``, an audit, written by `_report`) and `_unbind_file`
  (``unbind``, incident response, with its confirmation);
- `_demo`: ``authing-mfa demo``; ``authing-mfa emulator`` is `authing_mfa.testing`'s own;
- `_exit`: the exit codes, and the messages every command gives for a usage error.
"""

from __future__ import annotations

__all__ = ["main"]

from ._main import main
