"""Tests of `local_engine`."""
