"""`python -m demo_bench.compare`: run the layout comparison and write its report."""

from demo_bench.compare.cli import main

raise SystemExit(main())
