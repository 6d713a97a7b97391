"""Where the repository is, for tests that read sql/, Pulumi.yaml or run the CLI from its root."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
