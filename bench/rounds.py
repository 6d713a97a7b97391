"""Cases measured in interleaved rounds, each case's figure the median round.

These machines are noisy: the same case measured a minute apart varied by up to 10 %.
Running every case once per round, round after round, spreads a slow spell over all
of them, and the median round of each is what the ratios use. Every round's figure is
kept for the report, so the spread shows.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class Repeated(Generic[T]):
    """One case's outcomes over the rounds: the runs that worked, the first failure."""

    runs: list[T] = field(default_factory=list)
    error: str | None = None

    def median(self, rate: Callable[[T], float]) -> T | None:
        """The run whose rate is the median (the lower middle of an even count)."""
        if not self.runs:
            return None
        middle = statistics.median_low(rate(run) for run in self.runs)
        return next(run for run in self.runs if rate(run) == middle)


def interleaved(
    steps: Mapping[str, Callable[[], T]],
    repeats: int,
    attempt: Callable[[str, Callable[[], T]], tuple[T | None, str | None]],
) -> dict[str, Repeated[T]]:
    """Run every step once per round, in order, for `repeats` rounds.

    `attempt(what, step)` runs one step and returns (value, None) or (None, error); a
    failed round is recorded and the others still count.
    """
    outcomes: dict[str, Repeated[T]] = {name: Repeated() for name in steps}
    for round_index in range(1, repeats + 1):
        for name, step in steps.items():
            what = name if repeats == 1 else f"{name} (round {round_index} of {repeats})"
            value, error = attempt(what, step)
            if value is not None:
                outcomes[name].runs.append(value)
            elif outcomes[name].error is None:
                outcomes[name].error = error
    return outcomes
