"""Loads policy/__main__.py in the pack's own venv and checks its wiring, without serving it.

`make policy-venv` builds policy/venv as Pulumi does (policy/requirements.txt) and runs
this there: `PolicyPack` is swapped for a recorder (the real one starts a gRPC server),
then each policy is compared with policy/rules.py's RULES: same names, same order, same
kind (resource or stack) and enforcement level.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from typing import Any, ClassVar

import pulumi_policy

PACK = Path(__file__).resolve().parents[2] / "policy"


class RecordedPack:
    packs: ClassVar[list[RecordedPack]] = []

    def __init__(self, name: str, policies: list[Any], **_options: Any) -> None:
        self.name = name
        self.policies = policies
        RecordedPack.packs.append(self)


def main() -> None:
    sys.path.insert(0, str(PACK))
    pulumi_policy.PolicyPack = RecordedPack  # type: ignore[misc, assignment]
    runpy.run_path(str(PACK / "__main__.py"), run_name="__main__")
    from rules import RULES

    (pack,) = RecordedPack.packs
    wired = [
        (p.name, isinstance(p, pulumi_policy.StackValidationPolicy), p.enforcement_level)
        for p in pack.policies
    ]
    advisory, mandatory = (
        pulumi_policy.EnforcementLevel.ADVISORY,
        pulumi_policy.EnforcementLevel.MANDATORY,
    )
    expected = [
        (r.name, r.validate_stack is not None, advisory if r.advisory else mandatory) for r in RULES
    ]
    if wired != expected:
        raise SystemExit(f"policy pack {pack.name}: wired {wired}, expected {expected}")
    print(f"policy pack {pack.name}: {len(wired)} policies wired as policy/rules.py declares")


if __name__ == "__main__":
    main()
