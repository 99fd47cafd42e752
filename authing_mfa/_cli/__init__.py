"""The ``authing-mfa`` command line: every command, and what only the command line needs.

- `_main`: the argument parser and the dispatch to each command;
- `_one_user`: ``status``, ``unbind`` and ``import-totp USER_ID``;
- `_import_file`: ``import-totp --from FILE``, a whole migration, reading its rows with
  `_row_file` (which splits the input into bounded lines with `_lines`), recording them in a
  `_journal`, showing `_progress`, and remembering user ids and line numbers in the compact
  tables of `_intmap`;
- `_demo`: ``authing-mfa demo``; ``authing-mfa emulator`` is `authing_mfa.testing`'s own;
- `_exit`: the exit codes, and the messages every command gives for a usage error.
"""

from __future__ import annotations

__all__ = ["main"]

from ._main import main
