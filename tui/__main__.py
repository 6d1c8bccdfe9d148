"""`python -m tui` runs the whirr command line."""

from tui.cli import main

raise SystemExit(main())
