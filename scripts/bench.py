"""`ape run bench`: runs the gas benchmarks under bench/ and writes bench/results.json and RESULTS.md."""

import sys
from pathlib import Path


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from bench import gas_foundation

    gas_foundation.main()
