"""python -m loadgen.localcluster up."""

from loadgen.localcluster.cli import main

raise SystemExit(main())
