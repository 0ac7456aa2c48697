"""`python -m demo_bench.rehearsal`: run the rehearsal and write its report."""

from demo_bench.rehearsal.cli import main

raise SystemExit(main())
