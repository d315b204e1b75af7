"""`ape run bench_throughput`: the operator path's throughput, merged into bench/results.json."""

import sys
from pathlib import Path


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from bench import throughput

    throughput.main()
