"""``python -m ddprune``: the ``ddprune`` command (:mod:`ddprune.cli`)."""

import sys

from ddprune.cli import main

sys.exit(main())
