"""Which modules `make mutation` mutates, with the fast tests that must kill their mutants."""

from __future__ import annotations

# module -> the test files run against each of its mutants (the fast ones of that module)
MODULES: dict[str, tuple[str, ...]] = {
    "bigquery_facts.py": ("tests/test_bigquery_facts.py",),
    "pipeline/templates.py": (
        "tests/pipeline/test_templates.py",
        "tests/pipeline/test_templates_limits.py",
    ),
    "pipeline/retry.py": (
        "tests/pipeline/test_retry_decisions.py",
        "tests/pipeline/test_bigquery.py",
    ),
    # tests/infra/test_post_deploy.py runs Pulumi's mocks, which hang on a broken input
    # until mutmut's timeout: too slow per mutant.
    "pipeline/post_deploy.py": ("tests/pipeline/test_post_deploy_step.py",),
    "sqlrunner/report_html.py": (
        "tests/sqlrunner/test_report_html_hostile.py",
        "tests/sqlrunner/test_report_html_render.py",
    ),
    # test_decode.py imports TensorFlow, too slow to run per mutant here; the pixels it
    # derives are pinned under tests/local_engine/data/decode/ for test_decode_pinned.py.
    "local_engine/decode.py": (
        "tests/local_engine/test_decode_pinned.py",
        "tests/local_engine/test_decode_limits.py",
        "tests/local_engine/test_decode_modes.py",
    ),
    # test_stack_config_keys.py runs Pulumi's mocks, which hang on a broken config.
    "infra/config.py": (
        "tests/infra/test_config.py",
        "tests/infra/test_config_limits.py",
        "tests/infra/test_config_exact.py",
    ),
    "local_engine/ddl.py": (
        "tests/local_engine/test_ddl_rules.py",
        "tests/local_engine/test_engine.py",
    ),
}

# What the score of a module does not show, written under the table.
NOTES: dict[str, str] = {
    "local_engine/ddl.py": (
        "CREATE MODEL and DROP MODEL are run with two tiny ONNX models written by onnx.helper "
        "(test_ddl_rules.py): creating one reads its signature and converts nothing, so every "
        "mutant of the model statements meets them"
    ),
    "local_engine/decode.py": (
        "the expected pixels in test_decode_pinned.py are TensorFlow's, stored under "
        "tests/local_engine/data/decode/; test_decode.py decodes those files with TensorFlow "
        "again in the normal suite, so they cannot drift from it"
    ),
    "pipeline/post_deploy.py": (
        "run against tests/pipeline/test_post_deploy_step.py only: the Pulumi-mock tests hang "
        "on a broken input until mutmut's timeout"
    ),
}
