"""Throughput measurement shared by every benchmark case."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Throughput:
    """`images` processed in `seconds` of wall-clock time, after a warm-up."""

    images: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else float("nan")


def measure(run_batch: Callable[[int], int], batches: int, warmup: int = 1) -> Throughput:
    """Call `run_batch(i)` (which returns how many images it processed) `batches` times.

    The first `warmup` calls are left out of the timing: they pay one-off costs
    (graph compilation, allocator growth) that a long run amortises.
    """
    for index in range(warmup):
        run_batch(index)
    images = 0
    start = time.perf_counter()
    for index in range(batches):
        images += run_batch(index)
    return Throughput(images=images, seconds=time.perf_counter() - start)
