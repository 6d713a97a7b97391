"""The one error type the CLI turns into `error: ...` and exit code 1."""


class SqlRunnerError(Exception):
    """A user-facing failure: the message is printed after `error: ` on one line."""
