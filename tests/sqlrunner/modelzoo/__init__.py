"""Tests of `sqlrunner.modelzoo`."""
