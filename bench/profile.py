"""A profile of case B: py-spy samples every thread of the engine process.

Samples are grouped by the function they were in (self time) and by the stage of
the work that function belongs to (inference, decoding, resizing, SQL, other), so
the report can say what dominates. py-spy sees native calls as the Python frame that
made them: time inside OpenVINO shows as the frame that called `infer`, or `wait` for
the asynchronous requests the engine uses, so idle threads are sampled too (`--idle`)
and a thread parked in a lock or queue outside any stage is counted as idle, not work.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.engine_run import run_subprocess

# Leaf-most frame that matches decides a sample's stage; checked in this order.
STAGES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("model inference", re.compile(r"openvino|onnxruntime|\binfer|InferenceSession", re.I)),
    ("image decoding", re.compile(r"decode|PIL[/\\]|JpegImage|ImageFile", re.I)),
    ("image resizing", re.compile(r"resiz", re.I)),
    # The engine's statement runs inside DuckDB from this frame.
    ("DuckDB SQL", re.compile(r"duckdb|LocalEngine\._transpiled", re.I)),
    ("Arrow conversion", re.compile(r"pyarrow", re.I)),
)
# Where a thread with nothing to do sits: in a lock or queue wait, or a thread-pool worker
# whose own loop is the leaf (it is blocked in the C queue's get), or the profiler's wait.
_PARKED = re.compile(
    r"\((threading|queue|selectors)\.py|^_worker \(.*concurrent/futures/thread\.py|^sampled_by_py_spy "
)
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::\d+)?\)$")


@dataclass(frozen=True)
class ProfileSummary:
    tool: str
    samples: int
    stages: list[tuple[str, float]]
    top_functions: list[tuple[str, float]]


def py_spy_path() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.is_file() else shutil.which("py-spy")


def _frame_label(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    return f"{match['func']} ({Path(match['file']).name})"


def _stage(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, pattern in STAGES:
            if pattern.search(frame):
                return name
    return "other Python"


def _parked(frames: list[str], stage: str) -> bool:
    return stage == "other Python" and bool(_PARKED.search(frames[-1].strip()))


def summarise(raw: str, top: int = 8) -> ProfileSummary:
    """Group py-spy's raw (collapsed-stack) output by stage and by leaf function."""
    stages: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        stage = _stage(frames)
        if _parked(frames, stage):
            continue
        stages[stage] += count
        leaves[_frame_label(frames[-1])] += count
        total += count
    share = (lambda n: 100.0 * n / total) if total else (lambda n: 0.0)
    return ProfileSummary(
        tool="py-spy",
        samples=total,
        stages=[(name, share(n)) for name, n in stages.most_common()],
        top_functions=[(name, share(n)) for name, n in leaves.most_common(top)],
    )


def profile_engine(home: Path, count: int, warmup_count: int, out_dir: Path) -> ProfileSummary:
    """Run case B once, py-spy sampling its timed run (every thread, 100/s); summarise."""
    spy = py_spy_path()
    if spy is None:
        raise RuntimeError("py-spy is not installed (requirements-dev.txt)")
    out_dir.mkdir(parents=True, exist_ok=True)
    raw_path = out_dir / "engine_profile.txt"
    raw_path.unlink(missing_ok=True)
    run_subprocess(home, count, warmup_count, profile=(spy, raw_path))
    return summarise(raw_path.read_text())
