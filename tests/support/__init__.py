"""What the tests and the benchmarks share: fakes of what cannot run here, harnesses, generators, paths."""
