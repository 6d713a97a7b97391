"""The one error type the engine raises: a user-facing failure with a one-line message."""

# The words every refusal carries: `<form> is not supported by the local engine: <why>`.
REFUSAL = "not supported by the local engine"


class EngineError(Exception):
    """A statement the engine refuses or cannot run: the message says why, on one line."""
