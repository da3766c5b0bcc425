"""One module per scenario of the suite; see BENCHMARKS.md."""
