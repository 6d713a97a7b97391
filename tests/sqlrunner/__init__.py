"""Tests of `sqlrunner`."""
