"""`ape run bench_payments`: gas figures of the payment agent, merged into bench/results.json."""

import importlib.util
from pathlib import Path


def main() -> None:
    path = Path(__file__).resolve().parent.parent / "bench" / "gas_payments.py"
    spec = importlib.util.spec_from_file_location("gas_payments", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()
