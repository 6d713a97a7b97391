"""The embedded local engine: BigQuery SQL over a local lake, on DuckDB and ONNX Runtime."""
