"""`python -m bpcheck`: the command line, as the `bpcheck` script runs it."""
import sys

from .cli import main

sys.exit(main())
