"""``python -m collision`` is the same as the ``collision`` command."""

import sys

from .cli import main

sys.exit(main())
