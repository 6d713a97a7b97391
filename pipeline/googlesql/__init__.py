"""GoogleSQL (ZetaSQL), the SQL front end BigQuery is built on, run locally.

`server` runs the analyzer's gRPC server, `catalog` describes the stack to it, `check`
analyzes rendered templates statement by statement.
"""
