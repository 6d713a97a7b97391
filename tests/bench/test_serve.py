"""`python -m bench.serve --tiny`: both paths run, read every score, and the section says so.

A check that the measurement works (tiny model, a few photos); it never checks speed.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bench.serve import main


def test_quick_run_prints_both_paths_and_the_ratios(
    tmp_path: Path, tiny_savedmodel: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The session's tiny model where the run keeps its own: its conversion is the session's.
    shutil.copytree(tiny_savedmodel, tmp_path / "tiny")
    assert main(["--tiny", "--count", "3", "--rounds", "2", "--work", str(tmp_path)]) == 0
    out = capsys.readouterr().out

    assert out.startswith("## The lake over REST")
    assert "Command: `python -m bench.serve --tiny --count 3 --rounds 2 --work " in out
    assert re.search(r"\| in-process \| [\d.]+ \| [\d.]+ \|", out)
    assert re.search(r"\| REST \| [\d.]+ \| [\d.]+ \|", out)
    ratio = re.search(r"REST / in-process time: \*\*([\d.]+)\*\*", out)
    assert ratio and float(ratio.group(1)) > 0
    rounds = re.search(r"Rounds \(in-process/REST seconds\): (.*)\.", out)
    assert rounds and len(rounds.group(1).split(", ")) == 2
    assert len(re.findall(r"\| REST `client\.[a-z_]+\(", out)) == 2


def test_counts_below_one_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--tiny", "--count", "0", "--work", str(tmp_path)])
