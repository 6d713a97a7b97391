"""Tests of `pipeline.googlesql`."""
