"""Pulumi components of the stack, one module per concern, and its typed configuration."""
