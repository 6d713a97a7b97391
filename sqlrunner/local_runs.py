"""Rendered templates run on the embedded local engine: the one way `run --local`, the demo
and the tests run `sql/` on the lake."""

from __future__ import annotations

from typing import TYPE_CHECKING

from local_engine.errors import EngineError
from pipeline.errors import SqlRunnerError
from pipeline.rows import rows_written
from pipeline.templates import RenderedTemplate

if TYPE_CHECKING:
    from local_engine.engine import ExecuteResult, LocalEngine


class LocalExecutor:
    """Runs templates on a `LocalEngine`; the post-deploy step's executor for the lake."""

    def __init__(self, engine: LocalEngine) -> None:
        self.engine = engine

    def execute(self, template: RenderedTemplate) -> ExecuteResult:
        """Every statement of `template`; a failure names the template, then the statement."""
        try:
            return self.engine.execute(template.sql)
        except EngineError as exc:
            raise SqlRunnerError(f"{template.name}: {exc}") from exc

    def run(self, template: RenderedTemplate, run_key: str) -> int:
        result = self.execute(template)
        return rows_written((s.kind, s.rows) for s in result.statements)
