"""predict.sql after ML.PREDICT, on the local engine and on GoogleSQL's reference evaluator.

ML.PREDICT's output is given as a table of scores (ties on purpose, so the top-k's tie
rule is exercised), beside generated object, labels and predictions tables (missing
labels, undecodable and oversized objects, NULL content types, stale predictions). The
rows predict.sql inserts and the rows its incremental DELETE keeps must be the same.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from bigquery_facts import MAX_DECODE_IMAGE_BYTES
from local_engine.engine import LocalEngine
from pipeline.googlesql.evaluate import Table
from pipeline.googlesql.server import GoogleSqlServer
from pipeline.templates import RenderOptions, render_file
from tests.local_engine.test_transpile_differential import columns
from tests.support.differential import compare

SEEDS = range(40)
DS = "local-lake.d"
CONTENT_TYPES = ["image/jpeg", "image/png", "image/bmp", "image/gif", "text/plain", None]
SIZES = [0, 5, 1234, MAX_DECODE_IMAGE_BYTES - 1, MAX_DECODE_IMAGE_BYTES, MAX_DECODE_IMAGE_BYTES + 1]
CLASSES = 7


def outputs(top_k: int) -> dict[str, object]:
    return {
        "project": "local-lake",
        "location": "US",
        "model_files_uri": "gs://bucket/model/*",
        "model_type": "TENSORFLOW",
        "object_table_id": f"{DS}.objects",
        "model_id": f"{DS}.model",
        "predictions_table_id": f"{DS}.predictions",
        "labels_table_id": f"{DS}.labels",
        "top_k": top_k,
    }


def statements(top_k: int, full_refresh: bool = False) -> list[str]:
    rendered = render_file("predict.sql", outputs(top_k), RenderOptions(full_refresh=full_refresh))
    return rendered.statements


def after_predict(insert: str) -> str:
    """The INSERT's query with the ML.PREDICT CTE reading the scores table instead."""
    query = insert[insert.index("WITH\n  scores AS (") :]
    rest = query[query.index("  -- The k highest") :]
    scores = (
        "WITH\n  scores AS (SELECT uri, generation, content_type, size, activation_49 AS scores"
        f" FROM `{DS}.scores`),\n"
    )
    return f"SELECT * EXCEPT (predicted_at) FROM ({scores}{rest}) ORDER BY uri"


OBJECTS = columns(uri="STRING", generation="INT64", content_type="STRING", size="INT64")
SCORES = columns(
    uri="STRING",
    generation="INT64",
    content_type="STRING",
    size="INT64",
    activation_49="ARRAY<FLOAT64>",
)
LABELS = columns(class_index="INT64", label="STRING")
PREDICTIONS = columns(uri="STRING", generation="INT64")


def lake_tables(seed: int) -> dict[str, Table]:
    rng = random.Random(seed)
    objects = [
        (
            f"gs://bucket/img{n}",
            rng.randint(1, 3),
            rng.choice(CONTENT_TYPES),
            rng.choice(SIZES),
        )
        for n in range(rng.randint(0, 8))
    ]
    predicted = [o for o in objects if rng.random() < 0.3]
    predictions = [(uri, generation + rng.choice([0, 0, 1])) for uri, generation, *_ in predicted]
    predictions += [(f"gs://bucket/gone{n}", 1) for n in range(rng.randint(0, 2))]
    decodable = ("image/jpeg", "image/png", "image/bmp")
    scores = [
        (*o, [rng.choice([0.0, 0.1, 0.25, 0.5]) for _ in range(CLASSES)])
        for o in objects
        if o[2] in decodable and o[3] <= MAX_DECODE_IMAGE_BYTES and o not in predicted
    ]
    labels = [(i, f"class {i}") for i in range(CLASSES) if rng.random() < 0.8]
    return {
        f"{DS}.objects": Table(OBJECTS, objects),
        f"{DS}.scores": Table(SCORES, scores),
        f"{DS}.labels": Table(LABELS, labels),
        f"{DS}.predictions": Table(PREDICTIONS, predictions),
    }


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    with LocalEngine(Path(tmp_path_factory.mktemp("predict_sql")), progress=False) as running:
        yield running


def test_after_predict_keeps_the_template_shape() -> None:
    query = after_predict(statements(3)[2])
    assert "ML.PREDICT" not in query
    assert query.count("UNION ALL") == 1 and "ARRAY_AGG(" in query


@pytest.mark.parametrize("seed", SEEDS)
def test_inserted_rows(engine: LocalEngine, googlesql: GoogleSqlServer, seed: int) -> None:
    top_k = random.Random(seed).randint(1, CLASSES + 1)
    problem = compare(engine, googlesql, after_predict(statements(top_k)[2]), lake_tables(seed))
    assert problem is None, problem


@pytest.mark.parametrize("full_refresh", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_rows_the_delete_keeps(
    engine: LocalEngine, googlesql: GoogleSqlServer, seed: int, full_refresh: bool
) -> None:
    delete = statements(3, full_refresh)[1]
    condition = delete[delete.index("WHERE") + len("WHERE") :]
    tables = lake_tables(seed)
    kept = f"SELECT uri, generation FROM `{DS}.predictions` AS p ORDER BY uri"
    reference = (
        f"SELECT uri, generation FROM `{DS}.predictions` AS p"
        f" WHERE ({condition}) IS NOT TRUE ORDER BY uri"
    )
    from tests.support.differential import (
        disagreement,
        load_tables,
        local_answer,
        reference_answer,
        same_answer,
    )

    load_tables(engine, tables)
    engine.execute(delete)
    local = local_answer(engine, kept, {})
    expected = reference_answer(googlesql, reference, tables)
    assert same_answer(local, expected), disagreement(delete, local, expected)
