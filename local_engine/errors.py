"""The one error type the engine raises: a user-facing failure with a one-line message."""


class EngineError(Exception):
    """A statement the engine refuses or cannot run: the message says why, on one line."""
