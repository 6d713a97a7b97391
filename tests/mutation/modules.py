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
    # test_decode.py compares with TensorFlow image by image: too slow to run per mutant here.
    "local_engine/decode.py": ("tests/local_engine/test_decode_limits.py",),
    "infra/config.py": ("tests/infra/test_config.py", "tests/infra/test_stack_config_keys.py"),
    "local_engine/ddl.py": ("tests/local_engine/test_engine.py",),
}
