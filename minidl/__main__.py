"""`python -m minidl ...` runs the command line (minidl.cli)."""
import sys

from .cli import main

sys.exit(main())
