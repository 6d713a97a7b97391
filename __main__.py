"""The Pulumi program: read the config, declare the resources, export the outputs."""

import pulumi

from infra.config import load_config
from infra.outputs import stack_outputs
from infra.post_deploy import post_deploy_outputs, post_deploy_step
from infra.stack import build_stack

config = load_config()
resources = build_stack(config)

# Post-deploy step (CREATE MODEL, ML.PREDICT): declared here, after every resource exists,
# from `config` and `resources` (infra.post_deploy).
outputs = stack_outputs(config, resources)
post_deploy = post_deploy_step(config, resources, outputs)
outputs.update(post_deploy_outputs(post_deploy))

for key, value in outputs.items():
    pulumi.export(key, value)
