"""Tests of the policy pack in `policy/`."""
