"""Entry point: `python -m semconvgen [--check]`."""

import sys

from semconvgen.generate import main

sys.exit(main())
