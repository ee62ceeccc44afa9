import sys

from cdcbridge.cli import main

sys.exit(main())
