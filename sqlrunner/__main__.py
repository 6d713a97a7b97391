import sys

from sqlrunner.cli import main

sys.exit(main())
