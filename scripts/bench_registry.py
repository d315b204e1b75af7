"""`ape run bench_registry`: gas of the shared registry with 1 and 50 series bound, merged into bench/results.json."""

import sys
from pathlib import Path


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from bench import gas_registry

    gas_registry.main()
