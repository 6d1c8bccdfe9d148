"""`python -m tui.engine.runner`: a runner process (see tui.engine.runner.process)."""

import sys

from tui.engine.runner.process import main

sys.exit(main())
