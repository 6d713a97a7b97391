"""The policy pack: `pulumi preview --policy-pack policy` runs `policy/rules.py`'s rules.

Pulumi runs this file from the `policy` folder in the pack's own virtualenv (`venv`, from
`policy/requirements.txt`); the rules read BigQuery facts from the project root.
"""

import sys
from pathlib import Path

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyPack,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

# The pack folder is on the path (Pulumi runs the pack from it); the rules also need the
# project root, for bigquery_facts.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rules import RULES, Rule


def policy(rule: Rule) -> Policy:
    level = EnforcementLevel.ADVISORY if rule.advisory else EnforcementLevel.MANDATORY
    if rule.validate_stack is not None:
        return StackValidationPolicy(
            name=rule.name,
            description=rule.description,
            validate=rule.validate_stack,
            enforcement_level=level,
        )
    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=rule.validate_resource,
        enforcement_level=level,
    )


PolicyPack(name="resnet-inference", policies=[policy(rule) for rule in RULES])
