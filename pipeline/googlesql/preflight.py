"""The check before anything is billed: `run --dry-run` and `pulumi preview` call this.

GoogleSQL analyzes the rendered templates; the result lists the problems (each prints
as `error: <file> statement N, line L, column C: ...`). When the analyzer is not
installed (the deploy path does not need it), the check is skipped and the result says
why, so the caller can warn rather than fail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pipeline.googlesql.check import Problem, check_templates
from pipeline.googlesql.server import AnalyzerMissing, GoogleSqlServer
from pipeline.templates import RenderedTemplate


@dataclass(frozen=True)
class Preflight:
    problems: list[Problem] = field(default_factory=list)
    # Why the check did not run, when it did not.
    skipped: str | None = None

    def report(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


def check_before_billing(
    templates: Sequence[RenderedTemplate],
    outputs: Mapping[str, object],
    context: Sequence[RenderedTemplate] = (),
) -> Preflight:
    try:
        server = GoogleSqlServer()
    except AnalyzerMissing as exc:
        return Preflight(skipped=f"GoogleSQL check skipped: {exc}")
    with server:
        return Preflight(problems=check_templates(server, outputs, templates, context))
