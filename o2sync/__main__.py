"""``python -m o2sync``: the same as the ``o2sync`` command."""

from o2sync.cli import main

raise SystemExit(main())
