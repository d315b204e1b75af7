"""Gas and throughput benchmarks (run with `ape run bench`)."""
