"""Any project id in the lake: BigQuery's statements run verbatim with a real project id, and
one lake holds one project (the first one a statement names; `local-lake` always names it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from local_engine.engine import LocalEngine
from local_engine.errors import EngineError
from local_engine.projects import lake_project

P = "my-proj-123"
DS = f"{P}.resnet_inference_test"
WALKTHROUGH = [
    f"CREATE SCHEMA `{DS}`",
    f"""CREATE EXTERNAL TABLE `{DS}.vision_images`
WITH CONNECTION `{P}.us.lake-connection`
OPTIONS(object_metadata = 'SIMPLE', uris = ['gs://cloud-samples-data/vision/*.jpg'])""",
    f"""CREATE MODEL `{DS}.resnet`
OPTIONS(model_type = 'TENSORFLOW', model_path = 'gs://BUCKET_NAME/*')""",
    f"""CREATE TABLE `{DS}.predictions` AS
SELECT uri, activation_49
FROM ML.PREDICT(
  MODEL `{DS}.resnet`,
  (SELECT uri, ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), 224, 224, FALSE) AS input_1
   FROM `{DS}.vision_images`))""",
]


@pytest.fixture
def home(tmp_path: Path, tiny_savedmodel: Path, sample_images: Path) -> Path:
    home = tmp_path / "lake"
    shutil.copytree(sample_images, home / "gcs" / "cloud-samples-data" / "vision")
    shutil.copytree(tiny_savedmodel, home / "gcs" / "BUCKET_NAME")
    return home


def test_the_walkthrough_runs_verbatim_with_a_real_project_id(home: Path) -> None:
    with LocalEngine(home, progress=False) as engine:
        assert lake_project(engine.catalog) == "local-lake"
        assert engine.create_connection(f"{P}.US.lake-connection") == "us.lake-connection"
        for statement in WALKTHROUGH:
            engine.execute(statement)
        three_part = engine.execute(f"SELECT COUNT(*) AS n FROM `{DS}.predictions`").table
        unquoted = engine.execute(f"SELECT COUNT(*) AS n FROM {DS}.predictions").table
        split = engine.execute(f"SELECT COUNT(*) AS n FROM `{P}`.resnet_inference_test.predictions")
        local = engine.execute(
            "SELECT COUNT(*) AS n FROM `local-lake.resnet_inference_test.predictions`"
        )
        assert lake_project(engine.catalog) == P
    assert three_part is not None and unquoted is not None
    counts = {
        t.column("n")[0].as_py() for t in (three_part, unquoted, split.table, local.table) if t
    }
    assert counts == {2}  # the two JPEGs among the sample photos


def test_a_second_project_is_refused_naming_both(home: Path) -> None:
    with LocalEngine(home, progress=False) as engine:
        engine.execute(f"CREATE SCHEMA `{DS}`")
        with pytest.raises(EngineError) as caught:
            engine.execute("SELECT 1 FROM `other-proj-9.resnet_inference_test.t`")
    message = str(caught.value)
    assert "names project 'other-proj-9', but this lake holds project 'my-proj-123'" in message
    assert "use another home directory for 'other-proj-9'" in message


def test_the_lakes_project_survives_a_reopen(home: Path) -> None:
    with LocalEngine(home, progress=False) as engine:
        engine.execute(f"CREATE SCHEMA {DS}")
    with LocalEngine(home, progress=False) as engine:
        assert lake_project(engine.catalog) == P
        with pytest.raises(EngineError, match="this lake holds project 'my-proj-123'"):
            engine.execute("CREATE SCHEMA `another-proj.ds2`")


def test_a_failed_statement_claims_no_project(home: Path) -> None:
    with LocalEngine(home, progress=False) as engine:
        with pytest.raises(EngineError, match="does not exist"):
            engine.execute("SELECT * FROM `first-proj.ds.missing`")
        assert lake_project(engine.catalog) == "local-lake"
        engine.execute(f"CREATE SCHEMA `{DS}`")
        assert lake_project(engine.catalog) == P


def test_two_projects_in_one_statement_are_refused(home: Path) -> None:
    with LocalEngine(home, progress=False) as engine:
        engine.execute("CREATE SCHEMA ds")
        engine.execute("CREATE TABLE ds.t AS SELECT 1 AS x")
        with pytest.raises(EngineError, match="but this lake holds project 'aaa-proj'"):
            engine.execute("SELECT * FROM `aaa-proj.ds.t` JOIN `bbb-proj.ds.t` USING (x)")
        assert lake_project(engine.catalog) == "local-lake"


def test_local_lake_keeps_naming_the_lake(home: Path) -> None:
    with LocalEngine(home, progress=False) as engine:
        engine.execute(f"CREATE SCHEMA `{DS}`")
        engine.execute("CREATE TABLE `local-lake.resnet_inference_test.t` AS SELECT 1 AS x")
        table = engine.execute(f"SELECT x FROM `{DS}.t`").table
    assert table is not None and table.column("x").to_pylist() == [1]


@pytest.mark.parametrize("project", ["Upper-Case1", "ab", "ends-with-dash-", "9starts-digit"])
def test_a_malformed_project_id_is_refused(home: Path, project: str) -> None:
    with (
        LocalEngine(home, progress=False) as engine,
        pytest.raises(
            EngineError, match=f"names project '{project}', which must be 6-30 characters"
        ),
    ):
        engine.execute(f"CREATE SCHEMA `{project}.ds`")


def test_a_connection_naming_another_project_is_refused(home: Path) -> None:
    with LocalEngine(home, progress=False) as engine:
        engine.create_connection(f"projects/{P}/locations/us/connections/c1")
        assert lake_project(engine.catalog) == P
        with pytest.raises(EngineError, match="this lake holds project 'my-proj-123'"):
            engine.create_connection("else-proj.us.c2")
