"""The test suite: one folder per package, mirroring the code."""
