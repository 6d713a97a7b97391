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
    "infra/config.py": ("tests/infra/test_config.py", "tests/infra/test_config_limits.py"),
    "local_engine/ddl.py": (
        "tests/local_engine/test_ddl_rules.py",
        "tests/local_engine/test_engine.py",
    ),
}

# What the score of a module does not show, written under the table.
NOTES: dict[str, str] = {
    "local_engine/ddl.py": (
        "below the bar: the mutants of CREATE MODEL and DROP MODEL (about 80) are reached only "
        "by tests whose fixture converts a model, which is too slow to rerun per mutant here, "
        "so they count as not killed (test_ddl_models.py and test_engine_atomicity.py run that "
        "code, but were not run against its mutants)"
    ),
    "local_engine/decode.py": (
        "below the bar: run against test_decode_limits.py and test_decode_modes.py only, "
        "since test_decode.py compares every image with TensorFlow, too slow per mutant on "
        "this machine; most survivors change pixels slightly (the DCT mode, CMYK scaling, "
        "16-bit shifts), which only those TensorFlow comparisons see"
    ),
    "pipeline/post_deploy.py": (
        "run against tests/pipeline/test_post_deploy_step.py only: the Pulumi-mock tests hang "
        "on a broken input until mutmut's timeout"
    ),
}
