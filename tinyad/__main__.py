"""``python -m tinyad ...`` runs the ``tinyad`` command."""

import sys

from .cli import main

sys.exit(main())
