"""Tests of `sqlrunner.commands`."""
