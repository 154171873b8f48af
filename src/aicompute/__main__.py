import sys

from aicompute.cli import main

sys.exit(main())
