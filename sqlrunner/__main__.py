"""`python -m sqlrunner SUBCOMMAND`: the command line (see `python -m sqlrunner --help`)."""

import os
import sys

# TensorFlow's C++ info logging (CPU feature notes and the like) drowns the CLI's own
# output; warnings and errors still show. Set before anything imports TensorFlow. (The
# oneDNN line TensorFlow prints before its logging starts ignores this setting.)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from sqlrunner.cli import main

sys.exit(main())
