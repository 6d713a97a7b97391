"""The lake served over BigQuery's v2 REST API, so any BigQuery client can use it."""
