"""python -m localcluster up."""

from localcluster.cli import main

raise SystemExit(main())
