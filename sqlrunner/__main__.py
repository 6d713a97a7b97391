import os
import sys

# TensorFlow's C++ start-up chatter (oneDNN, CPU features) drowns the CLI's own output;
# warnings and errors still show. Set before anything imports TensorFlow.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from sqlrunner.cli import main

sys.exit(main())
