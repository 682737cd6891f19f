"""Entry point: `python -m dashboards [--check]`."""

import sys

from dashboards.generate import main

sys.exit(main())
