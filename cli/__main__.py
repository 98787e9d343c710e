"""`python -m hypersnn.cli ...`: the same as the `hypersnn` console script."""
import sys

from .entry import main

sys.exit(main())
