"""`ape run trace_claim`: call frames and storage accesses of the benchmark's coupon claim (see bench/)."""

import importlib.util
from pathlib import Path


def main() -> None:
    path = Path(__file__).resolve().parent.parent / "bench" / "trace_claim.py"
    spec = importlib.util.spec_from_file_location("trace_claim", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()
