"""`make mutation`: mutmut over each module of MODULES in turn, the score written to docs/.

Each module runs in a scratch copy of the repository (build/mutation/<module>/) with its
own mutmut settings, one after the other, under `nice`: `python -m tests.mutation.run
[MODULE ...]`. The scores and every surviving mutant, with the reason it is harmless from
SURVIVORS, go to docs/mutation.md; modules not run this time keep their last row.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.mutation.modules import MODULES, NOTES
from tests.mutation.survivors import SURVIVORS

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "mutation.md"
STATE = REPO / "docs" / "mutation.json"
SCRATCH = REPO / "build" / "mutation"
MUTMUT = Path(sys.executable).with_name("mutmut")


def _tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [name for name in listed if not name.startswith("build/")]


def _scratch_copy(module: str, tests: tuple[str, ...]) -> Path:
    work = SCRATCH / module.replace("/", "_").removesuffix(".py")
    shutil.rmtree(work, ignore_errors=True)
    files = [name for name in _tracked_files() if (REPO / name).is_file()]
    for name in files:
        target = work / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    top_level = sorted({name.split("/")[0] for name in files} - {module, "pyproject.toml"})
    settings = {
        "source_paths": [module],
        "also_copy": top_level,
        "pytest_add_cli_args_test_selection": [t for t in tests if (REPO / t).exists()],
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-q", "-x"],
    }
    lines = ["", "[tool.mutmut]"] + [
        f"{key} = {json.dumps(value)}" for key, value in settings.items()
    ]
    with (work / "pyproject.toml").open("a") as pyproject:
        pyproject.write("\n".join(lines) + "\n")
    return work


def _survivors(work: Path) -> list[str]:
    shown = subprocess.run(
        [str(MUTMUT), "results"], cwd=work, capture_output=True, text=True, check=False
    ).stdout
    return sorted(
        match.group(1)
        for match in re.finditer(r"^\s*([\w.]+__mutmut_\d+): (survived|no tests)", shown, re.M)
    )


def run_module(module: str) -> dict[str, object]:
    tests = MODULES[module]
    work = _scratch_copy(module, tests)
    started = time.monotonic()
    env = {**os.environ, "PYTHONPATH": "."}
    subprocess.run(
        ["nice", str(MUTMUT), "run", "--max-children", "1"], cwd=work, env=env, check=False
    )
    subprocess.run([str(MUTMUT), "export-cicd-stats"], cwd=work, env=env, check=True)
    stats = json.loads((work / "mutants" / "mutmut-cicd-stats.json").read_text())
    if stats["killed"] + stats["survived"] == 0:
        print(f"mutmut checked no mutant of {module}: see its output above", file=sys.stderr)
        return {"tests": list(tests), "failed": True, "killed": 0, "total": 0, "survivors": []}
    return {
        "tests": list(tests),
        "killed": stats["killed"] + stats["timeout"] + stats["segfault"],
        "total": stats["total"] - stats["skipped"],
        "survivors": _survivors(work),
        "minutes": round((time.monotonic() - started) / 60, 1),
    }


def write_doc(results: dict[str, dict[str, object]]) -> None:
    rows = []
    survivors = []
    for module in MODULES:
        result = results.get(module)
        if result is None or result.get("failed"):
            state = "not run" if result is None else "mutmut could not run its tests"
            rows.append(f"| `{module}` | {state} | | | |")
            continue
        killed, total = int(str(result["killed"])), int(str(result["total"]))
        score = f"{100 * killed / total:.0f} %" if total else "no mutants"
        rows.append(
            f"| `{module}` | {score} | {killed} / {total} | {result['minutes']} min | "
            + ", ".join(f"`{t}`" for t in result["tests"])  # type: ignore[attr-defined]
            + " |"
        )
        names: list[str] = list(result["survivors"])  # type: ignore[call-overload]
        if total and killed / total < 0.8:
            scratch = module.replace("/", "_").removesuffix(".py")
            survivors.append(
                f"| {len(names)} of `{module}` | not analysed: the module is below the bar "
                f"(`mutmut results` in build/mutation/{scratch}/ lists them) |"
            )
            continue
        for name in names:
            reason = SURVIVORS.get(name, "**not yet explained**")
            survivors.append(f"| `{name}` | {reason} |")
    DOC.write_text(
        "# Mutation score\n\n"
        "How many small faults (mutants) mutmut plants in each module that the module's\n"
        "fast tests catch. Produced by `make mutation` (`python -m tests.mutation.run`,\n"
        "one module at a time, `nice`d; a module's scratch copy is under build/mutation/).\n"
        "The bar is 80 % per module; every survivor is listed with why it is harmless.\n\n"
        "| module | score | killed / mutants | time | tests run against each mutant |\n"
        "|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n\n"
        + "".join(f"- `{module}`: {note}.\n" for module, note in NOTES.items())
        + "\n## Survivors\n\n| mutant (`mutmut show NAME` in the scratch copy) | why it is harmless |\n"
        "|---|---|\n" + ("\n".join(survivors) or "| none | |") + "\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--doc-only", action="store_true", help="rewrite docs/mutation.md from the last results"
    )
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"any of {', '.join(MODULES)}")
    args = parser.parse_args()
    unknown = [module for module in args.modules if module not in MODULES]
    if unknown:
        parser.error(f"not a module of tests/mutation/modules.py: {', '.join(unknown)}")
    results = json.loads(STATE.read_text()) if STATE.exists() else {}
    if args.doc_only:
        write_doc(results)
        return 0
    for module in args.modules or list(MODULES):
        results[module] = run_module(module)
        STATE.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        write_doc(results)
    write_doc(results)
    below = [m for m, r in results.items() if not r["total"] or r["killed"] / r["total"] < 0.8]
    if below:
        print(f"below 80 %: {', '.join(below)}", file=sys.stderr)
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
