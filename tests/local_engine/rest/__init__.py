"""Tests of `local_engine.rest`, the lake served over BigQuery's REST API."""
