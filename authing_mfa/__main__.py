"""``python -m authing_mfa``: the ``authing-mfa`` command."""

import sys

from ._cli import main

sys.exit(main())
