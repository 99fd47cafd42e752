"""``python -m authing_mfa.testing``: serve an emulator until Ctrl-C (see `_command`)."""

from __future__ import annotations

from ._command import main

if __name__ == "__main__":
    main()
