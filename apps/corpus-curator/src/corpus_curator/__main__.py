"""`python -m corpus_curator` runs the CLI."""

from corpus_curator.cli import main

raise SystemExit(main())
