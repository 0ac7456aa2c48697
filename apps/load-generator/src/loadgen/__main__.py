"""`python -m loadgen` = the `loadgen` command."""

from loadgen.cli import main

raise SystemExit(main())
