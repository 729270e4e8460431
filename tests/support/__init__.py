"""What the tests and the benchmarks share: servers, databases, accounts and generated laws."""
