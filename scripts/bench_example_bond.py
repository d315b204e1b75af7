"""`ape run bench_example_bond`: gas of the example bond as the munibond library deploys it, merged into
bench/results.json."""

import sys
from pathlib import Path


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from bench import gas_example_bond

    gas_example_bond.main()
