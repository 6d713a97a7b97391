"""SQL runner: template rendering, the BigQuery executor, the local engine and the CLI."""
