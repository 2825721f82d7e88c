import sys

from itsm_tui.cli import main

sys.exit(main())
