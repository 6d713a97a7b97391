"""One module per CLI subcommand; see `sqlrunner.cli`."""
