"""Entry point: `PYTHONPATH=scripts python -m localstack [options] [demo flags]`."""

import sys

from localstack.cli import main

sys.exit(main())
