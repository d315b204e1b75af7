"""`ape run trace_commit`: call frames and storage accesses of the benchmark's subscription commit (see bench/)."""

import sys
from pathlib import Path


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from bench import trace_commit

    trace_commit.main()
