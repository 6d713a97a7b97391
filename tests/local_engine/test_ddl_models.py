"""CREATE MODEL and ML.PREDICT through the engine's SQL, with the tiny SavedModel and real photos.

The walkthrough's three statements run verbatim; predictions are checked against the
SavedModel called directly in TensorFlow on TensorFlow-preprocessed tensors.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from local_engine.engine import LocalEngine
from local_engine.errors import EngineError
from local_engine.names import TableName

# The tutorial's statements, character for character (BUCKET_NAME is a real bucket here).
WALKTHROUGH_OBJECT_TABLE = """CREATE EXTERNAL TABLE resnet_inference_test.vision_images
WITH CONNECTION `us.lake-connection`
OPTIONS(
  object_metadata = 'SIMPLE',
  uris = ['gs://cloud-samples-data/vision/*.jpg']
);"""
WALKTHROUGH_CREATE_MODEL = """CREATE MODEL `resnet_inference_test.resnet`
OPTIONS(
  model_type = 'TENSORFLOW',
  model_path = 'gs://BUCKET_NAME/*');"""
WALKTHROUGH_PREDICT = """SELECT *
FROM ML.PREDICT(
  MODEL `resnet_inference_test.resnet`,
  (SELECT uri, ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), 224, 224, FALSE) AS input_1
  FROM resnet_inference_test.vision_images)
);"""

FUSED_INPUT = (
    "(SELECT uri, ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), 224, 224, FALSE) AS input_1"
    " FROM resnet_inference_test.vision_images)"
)


@pytest.fixture(scope="module")
def lake(
    tmp_path_factory: pytest.TempPathFactory, tiny_savedmodel: Path, sample_images: Path
) -> Path:
    """A lake holding the sample photos and the tiny model; the walkthrough's setup run once."""
    home = tmp_path_factory.mktemp("walkthrough") / "lake"
    vision = home / "gcs" / "cloud-samples-data" / "vision"
    shutil.copytree(sample_images, vision)
    shutil.copytree(tiny_savedmodel, home / "gcs" / "BUCKET_NAME")
    with LocalEngine(home, progress=False) as engine:
        engine.create_connection("us.lake-connection")
        engine.execute("CREATE SCHEMA resnet_inference_test")
        engine.execute(WALKTHROUGH_OBJECT_TABLE)
        engine.execute(WALKTHROUGH_CREATE_MODEL)
    return home


@pytest.fixture
def engine(lake: Path) -> Iterator[LocalEngine]:
    with LocalEngine(lake, progress=False) as engine:
        yield engine


def _jpegs(lake: Path) -> list[Path]:
    return sorted((lake / "gcs" / "cloud-samples-data" / "vision").glob("*.jpg"))


def _tf_predictions(model_dir: Path, images: list[Path]) -> np.ndarray:
    """The model called directly on TensorFlow's own decode + convert + bilinear resize."""
    batch = tf.stack(
        [
            tf.image.resize(
                tf.image.convert_image_dtype(
                    tf.io.decode_image(path.read_bytes(), channels=3, expand_animations=False),
                    tf.float32,
                ),
                (224, 224),
                method="bilinear",
            )
            for path in images
        ]
    )
    serve = tf.saved_model.load(str(model_dir)).signatures["serving_default"]
    return np.asarray(serve(input_1=batch)["activation_49"].numpy())


def test_walkthrough_statements_verbatim(tmp_path: Path, lake: Path) -> None:
    home = tmp_path / "fresh"
    shutil.copytree(lake / "gcs", home / "gcs")
    with LocalEngine(home, progress=False) as engine:
        engine.create_connection("us.lake-connection")
        engine.execute("CREATE SCHEMA resnet_inference_test")
        assert engine.execute(WALKTHROUGH_OBJECT_TABLE).statements[0].kind == (
            "CREATE EXTERNAL TABLE"
        )
        assert engine.execute(WALKTHROUGH_CREATE_MODEL).statements[0].kind == "CREATE MODEL"
        table = engine.execute(WALKTHROUGH_PREDICT).table
    assert table is not None
    assert table.schema.names == ["uri", "input_1", "activation_49"]
    uris = table.column("uri").to_pylist()
    assert uris == [f"gs://cloud-samples-data/vision/{p.name}" for p in _jpegs(lake)]
    scores = np.array(table.column("activation_49").to_pylist())
    assert scores.shape == (len(uris), 1001)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, atol=1e-4)
    first = table.column("input_1")[0].as_py()
    assert list(first["shape"]) == [224, 224, 3]
    assert len(first["image"]) == 224 * 224 * 3


def test_predictions_match_the_model_called_directly(
    engine: LocalEngine, lake: Path, tiny_savedmodel: Path
) -> None:
    table = engine.execute(
        "SELECT uri, activation_49 FROM ML.PREDICT(MODEL resnet_inference_test.resnet,"
        f" {FUSED_INPUT}) ORDER BY uri"
    ).table
    assert table is not None
    got = np.array(table.column("activation_49").to_pylist())
    expected = _tf_predictions(tiny_savedmodel, _jpegs(lake))
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got.argmax(axis=1), expected.argmax(axis=1))
    np.testing.assert_allclose(got, expected, atol=2e-3)


def test_table_input_and_unfused_features_give_the_same_predictions(engine: LocalEngine) -> None:
    engine.execute(
        "CREATE OR REPLACE TABLE resnet_inference_test.features AS"
        " SELECT uri, ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), 224, 224, FALSE) AS input_1"
        " FROM resnet_inference_test.vision_images"
    )
    via_table = engine.execute(
        "SELECT uri, activation_49 FROM ML.PREDICT(MODEL `local-lake.resnet_inference_test.resnet`,"
        " TABLE resnet_inference_test.features) ORDER BY uri"
    ).table
    fused = engine.execute(
        "SELECT uri, activation_49 FROM ML.PREDICT(MODEL resnet_inference_test.resnet,"
        f" {FUSED_INPUT}) ORDER BY uri"
    ).table
    assert via_table is not None and fused is not None
    assert via_table.column("uri").to_pylist() == fused.column("uri").to_pylist()
    np.testing.assert_allclose(
        np.array(via_table.column("activation_49").to_pylist()),
        np.array(fused.column("activation_49").to_pylist()),
        atol=1e-6,
    )


def test_outer_query_unnests_predictions_to_top_labels(
    engine: LocalEngine, lake: Path, tiny_savedmodel: Path
) -> None:
    table = engine.execute(
        "SELECT p.uri, pos AS class_index, score"
        " FROM ML.PREDICT(MODEL resnet_inference_test.resnet, " + FUSED_INPUT + ") AS p,"
        " UNNEST(p.activation_49) AS score WITH OFFSET AS pos"
        " WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY p.uri ORDER BY score DESC) = 1"
        " ORDER BY p.uri"
    ).table
    assert table is not None
    expected = _tf_predictions(tiny_savedmodel, _jpegs(lake))
    assert table.column("class_index").to_pylist() == expected.argmax(axis=1).tolist()
    np.testing.assert_allclose(table.column("score").to_pylist(), expected.max(axis=1), atol=2e-3)


def test_input_without_uri_adds_no_columns(engine: LocalEngine) -> None:
    table = engine.execute(
        "SELECT * FROM ML.PREDICT(MODEL resnet_inference_test.resnet,"
        " (SELECT ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), 224, 224, FALSE) AS input_1"
        " FROM resnet_inference_test.vision_images))"
    ).table
    assert table is not None
    assert table.schema.names == ["input_1", "activation_49"]
    assert table.num_rows == 2


def test_missing_feature_is_named(engine: LocalEngine) -> None:
    with pytest.raises(EngineError, match="input_1") as caught:
        engine.execute(
            "SELECT * FROM ML.PREDICT(MODEL resnet_inference_test.resnet,"
            " (SELECT uri FROM resnet_inference_test.vision_images))"
        )
    assert str(caught.value).startswith("statement 1 (SELECT * FROM ML.PREDICT")


def test_corrupt_image_fails_the_statement_and_leaves_no_table(
    engine: LocalEngine, lake: Path
) -> None:
    broken = lake / "gcs" / "broken-bucket" / "imgs"
    broken.mkdir(parents=True, exist_ok=True)
    shutil.copy(_jpegs(lake)[0], broken / "good.jpg")
    (broken / "truncated.jpg").write_bytes(_jpegs(lake)[0].read_bytes()[:200])
    engine.execute(
        "CREATE OR REPLACE EXTERNAL TABLE resnet_inference_test.broken"
        " WITH CONNECTION `us.lake-connection`"
        " OPTIONS(object_metadata = 'SIMPLE', uris = ['gs://broken-bucket/imgs/*'])"
    )
    with pytest.raises(EngineError, match=r"gs://broken-bucket/imgs/truncated\.jpg"):
        engine.execute(
            "CREATE TABLE resnet_inference_test.broken_predictions AS SELECT * FROM ML.PREDICT("
            "MODEL resnet_inference_test.resnet, (SELECT uri,"
            " ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), 224, 224, FALSE) AS input_1"
            " FROM resnet_inference_test.broken))"
        )
    name = TableName("resnet_inference_test", "broken_predictions")
    assert engine.catalog.relation_kind(name) is None


def test_image_functions_on_their_own(engine: LocalEngine, lake: Path) -> None:
    table = engine.execute(
        "SELECT uri, ML.DECODE_IMAGE(data).shape AS decoded,"
        " ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), 100, 120, TRUE).shape AS fitted,"
        " ML.CONVERT_COLOR_SPACE(ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), 4, 4, FALSE),"
        " 'GRAYSCALE').shape AS gray"
        " FROM resnet_inference_test.vision_images ORDER BY uri"
    ).table
    assert table is not None
    for row, path in zip(table.to_pylist(), _jpegs(lake), strict=True):
        height, width, _ = tf.io.decode_image(path.read_bytes(), channels=3).shape
        assert row["decoded"] == [height, width, 3]
        scale = min(100 / height, 120 / width)
        fitted_h, fitted_w = row["fitted"][:2]
        assert fitted_h <= 100 and fitted_w <= 120
        assert max(abs(fitted_h - height * scale), abs(fitted_w - width * scale)) <= 1
        assert row["gray"] == [4, 4, 1]


def test_create_model_rules_and_errors(engine: LocalEngine, lake: Path) -> None:
    with pytest.raises(EngineError, match="already exists"):
        engine.execute(WALKTHROUGH_CREATE_MODEL)
    engine.execute(WALKTHROUGH_CREATE_MODEL.replace("CREATE MODEL", "CREATE MODEL IF NOT EXISTS"))
    engine.execute(WALKTHROUGH_CREATE_MODEL.replace("CREATE MODEL", "CREATE OR REPLACE MODEL"))
    with pytest.raises(EngineError, match=r"gs://no-such-bucket/model/\*"):
        engine.execute(
            "CREATE MODEL resnet_inference_test.ghost"
            " OPTIONS(model_type = 'TENSORFLOW', model_path = 'gs://no-such-bucket/model/*')"
        )
    with pytest.raises(EngineError, match=r"gs://BUCKET_NAME/\*"):
        engine.execute(
            "CREATE MODEL resnet_inference_test.wrong_type"
            " OPTIONS(model_type = 'ONNX', model_path = 'gs://BUCKET_NAME/*')"
        )
    with pytest.raises(EngineError, match="model option kms_key_name is not supported"):
        engine.execute(
            "CREATE MODEL resnet_inference_test.opts OPTIONS(model_type = 'TENSORFLOW',"
            " model_path = 'gs://BUCKET_NAME/*', kms_key_name = 'k')"
        )
    assert engine.catalog.models() == [TableName("resnet_inference_test", "resnet")]
    engine.execute("DROP MODEL IF EXISTS resnet_inference_test.ghost")
    with pytest.raises(EngineError, match=r"model resnet_inference_test\.ghost not found"):
        engine.execute("DROP MODEL resnet_inference_test.ghost")


def test_decode_error_on_its_own_names_the_object(engine: LocalEngine, lake: Path) -> None:
    broken = lake / "gcs" / "broken-decode" / "x"
    broken.mkdir(parents=True, exist_ok=True)
    (broken / "empty.jpg").write_bytes(b"")
    engine.execute(
        "CREATE OR REPLACE EXTERNAL TABLE resnet_inference_test.empty_images"
        " WITH CONNECTION `us.lake-connection`"
        " OPTIONS(object_metadata = 'SIMPLE', uris = ['gs://broken-decode/x/*'])"
    )
    with pytest.raises(EngineError, match=r"gs://broken-decode/x/empty\.jpg") as caught:
        engine.execute(
            "SELECT ML.DECODE_IMAGE(data) AS img FROM resnet_inference_test.empty_images"
        )
    assert "Python exception" not in str(caught.value)


def test_model_and_images_read_through_cloud_storage(
    emulator: str, tmp_path: Path, lake: Path, tiny_savedmodel: Path
) -> None:
    from google.cloud import storage

    bucket = storage.Client().create_bucket("emu-lake")
    for path in sorted(tiny_savedmodel.rglob("*")):
        if path.is_file():
            name = f"resnet_50/{path.relative_to(tiny_savedmodel).as_posix()}"
            bucket.blob(name).upload_from_filename(str(path))
    for path in _jpegs(lake):
        bucket.blob(f"vision/{path.name}").upload_from_filename(
            str(path), content_type="image/jpeg"
        )
    with LocalEngine(tmp_path / "gcs-lake", progress=False) as engine:
        engine.create_connection("us.lake-connection")
        engine.execute(
            "CREATE SCHEMA resnet_inference_test;"
            + WALKTHROUGH_OBJECT_TABLE.replace("cloud-samples-data", "emu-lake")
            + WALKTHROUGH_CREATE_MODEL.replace("BUCKET_NAME", "emu-lake/resnet_50")
        )
        table = engine.execute(
            "SELECT uri, activation_49 FROM ML.PREDICT(MODEL resnet_inference_test.resnet,"
            f" {FUSED_INPUT}) ORDER BY uri"
        ).table
    assert table is not None
    assert table.column("uri").to_pylist() == [
        f"gs://emu-lake/vision/{p.name}" for p in _jpegs(lake)
    ]
    expected = _tf_predictions(tiny_savedmodel, _jpegs(lake))
    np.testing.assert_allclose(
        np.array(table.column("activation_49").to_pylist()), expected, atol=2e-3
    )
