"""Tests of the test-support modules in `tests/support/` that are servers in their own right."""
