"""`ape run bench_subscription`: gas figures of the subscription book, merged into bench/results.json."""

import sys
from pathlib import Path


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from bench import gas_subscription

    gas_subscription.main()
