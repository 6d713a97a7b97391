"""The streaming predictor and ML.PREDICT: outputs equal the model called on TensorFlow's tensors."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import tensorflow as tf

from local_engine import predict as predict_module
from local_engine.errors import EngineError
from local_engine.images import image_struct_array
from local_engine.models import ModelRecord, create_model, load_model
from local_engine.predict import FusedImageFeature, predict_stream
from tests.support.ml_imageset import photo_like_jpeg, varied_images
from tests.support.ml_lake import DirStore, put_tree


@pytest.fixture(scope="module")
def tiny(
    tiny_savedmodel: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ModelRecord, Path]:
    root = tmp_path_factory.mktemp("predict")
    store = DirStore(root / "gcs")
    (root / "gcs").mkdir()
    path = put_tree(store, tiny_savedmodel, "gs://bucket/tiny")
    return create_model("TENSORFLOW", path, store, root / "home"), root / "home"


def tf_pipeline(data: bytes, size: tuple[int, int] = (224, 224)) -> np.ndarray:
    image = tf.io.decode_image(data, channels=3, expand_animations=False)
    return tf.image.resize(tf.image.convert_image_dtype(image, tf.float32), size).numpy()


def reader(rows: dict[str, list[object]], batch_rows: int = 4) -> pa.RecordBatchReader:
    table = pa.table(rows)
    return pa.RecordBatchReader.from_batches(
        table.schema, table.to_batches(max_chunksize=batch_rows)
    )


FUSED = {"input_1": FusedImageFeature("__src", "uri", (224, 224, False), emit=False)}


def test_predict_stream_equals_model_on_tensorflow_tensors(
    tiny: tuple[ModelRecord, Path], tiny_savedmodel: Path, sample_images: Path
) -> None:
    record, home = tiny
    photos = sorted(sample_images.iterdir())
    blobs = [p.read_bytes() for p in photos] + [varied_images()["png_rgba.png"]]
    uris = [f"gs://b/{p.name}" for p in photos] + ["gs://b/rgba.png"]
    out = predict_stream(
        load_model(record, home),
        reader({"uri": uris, "__src": blobs, "n": list(range(len(uris)))}, batch_rows=3),
        FUSED,
        batch_size=4,
        progress=False,
    ).read_all()
    assert out.column_names == ["uri", "n", "activation_49"]
    assert out.column("uri").to_pylist() == uris
    assert out.column("n").to_pylist() == list(range(len(uris)))
    got = np.array(out.column("activation_49").to_pylist())
    signature = tf.saved_model.load(str(tiny_savedmodel)).signatures["serving_default"]
    tensors = np.stack([tf_pipeline(b) for b in blobs])
    expected = signature(input_1=tf.constant(tensors))["activation_49"].numpy()
    assert got.shape == (len(uris), 1001)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    assert np.argmax(got, 1).tolist() == np.argmax(expected, 1).tolist()


def test_emitted_feature_and_struct_input_round_trip(tiny: tuple[ModelRecord, Path]) -> None:
    record, home = tiny
    model = load_model(record, home)
    blobs = [photo_like_jpeg(120, 160, seed=s) for s in range(3)]
    fused = {"input_1": FusedImageFeature("__src", None, (224, 224, False), emit=True)}
    out = predict_stream(model, reader({"__src": blobs}), fused, progress=False).read_all()
    assert out.column_names == ["input_1", "activation_49"]
    first = out.column("input_1")[0].as_py()
    assert first["shape"] == [224, 224, 3]
    np.testing.assert_allclose(
        np.array(first["image"]).reshape(224, 224, 3), tf_pipeline(blobs[0]), atol=1e-6
    )
    # the same images handed over as BigQuery image structs (the unfused path)
    structs = image_struct_array([tf_pipeline(b) for b in blobs])
    unfused = predict_stream(model, reader({"input_1": structs}), {}, progress=False).read_all()
    assert unfused.column_names == ["input_1", "activation_49"]
    np.testing.assert_allclose(
        np.array(unfused.column("activation_49").to_pylist()),
        np.array(out.column("activation_49").to_pylist()),
        rtol=1e-5,
        atol=1e-7,
    )


@pytest.mark.parametrize("resize", [(224, 224, False), (224, 224, True)])
def test_every_emitted_image_is_its_own(
    tiny: tuple[ModelRecord, Path], resize: tuple[int, int, bool]
) -> None:
    # Decode buffers are reused per thread and fixed-size resizes land in a shared batch
    # array: each row must still get its own photo's pixels, across batches and threads.
    record, home = tiny
    blobs = [photo_like_jpeg(96 + 8 * s, 96 + 8 * s, seed=s) for s in range(7)]
    fused = {"input_1": FusedImageFeature("__src", None, resize, emit=True)}
    out = predict_stream(
        load_model(record, home),
        reader({"__src": blobs}, batch_rows=2),
        fused,
        batch_size=3,
        progress=False,
    ).read_all()
    images = np.array([row["image"] for row in out.column("input_1").to_pylist()])
    expected = np.stack([tf_pipeline(b) for b in blobs])
    np.testing.assert_array_equal(images.reshape(expected.shape), expected)


def test_nested_array_feature(tiny: tuple[ModelRecord, Path]) -> None:
    record, home = tiny
    model = load_model(record, home)
    x = np.random.default_rng(1).random((2, 224, 224, 3)).astype(np.float32)
    nested = pa.array(x.tolist(), pa.list_(pa.list_(pa.list_(pa.float64()))))
    out = predict_stream(model, reader({"input_1": nested}), {}, progress=False).read_all()
    np.testing.assert_allclose(
        np.array(out.column("activation_49").to_pylist()),
        model.predict({"input_1": x})["activation_49"],
        rtol=1e-5,
    )


def test_missing_feature_is_named(tiny: tuple[ModelRecord, Path]) -> None:
    record, home = tiny
    with pytest.raises(EngineError, match=r"ML\.PREDICT input has no column input_1"):
        predict_stream(load_model(record, home), reader({"uri": ["gs://b/x"]}), {}, progress=False)


def test_unresized_image_of_wrong_size_is_a_shape_mismatch(tiny: tuple[ModelRecord, Path]) -> None:
    record, home = tiny
    fused = {"input_1": FusedImageFeature("__src", "uri", None, emit=False)}
    stream = predict_stream(
        load_model(record, home),
        reader({"uri": ["gs://b/small.jpg"], "__src": [photo_like_jpeg(50, 60)]}),
        fused,
        progress=False,
    )
    with pytest.raises(
        EngineError, match=r"input shape mismatch: .*gs://b/small.jpg is \[50, 60, 3\]"
    ):
        stream.read_all()


def test_summary_line_and_no_threads_left(
    tiny: tuple[ModelRecord, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    record, home = tiny
    blobs = [photo_like_jpeg(64, 64, seed=s) for s in range(5)]
    out = predict_stream(
        load_model(record, home),
        reader({"uri": [f"gs://b/{i}" for i in range(5)], "__src": blobs}),
        FUSED,
        batch_size=2,
    ).read_all()
    assert out.num_rows == 5
    err = capsys.readouterr().err
    assert "ML.PREDICT: 5 images in" in err and "images/s" in err
    assert not [
        t
        for t in threading.enumerate()
        if t.name.startswith(("sqlrunner-decode", "sqlrunner-infer"))
    ]


def test_walkthrough_sql_on_the_local_engine(
    tiny_savedmodel: Path, sample_images: Path, tmp_path: Path
) -> None:
    from local_engine import engine as engine_module

    home = tmp_path / "lake"
    shutil.copytree(sample_images, home / "gcs" / "bucket" / "images")
    shutil.copytree(tiny_savedmodel, home / "gcs" / "bucket" / "resnet_50")
    with engine_module.LocalEngine(home, progress=False) as engine:
        engine.create_connection("us.lake-connection")
        result = engine.execute(
            """
            CREATE SCHEMA resnet_inference_test;
            CREATE EXTERNAL TABLE resnet_inference_test.vision_images
              WITH CONNECTION `us.lake-connection`
              OPTIONS (object_metadata = 'SIMPLE', uris = ['gs://bucket/images/*']);
            CREATE MODEL `resnet_inference_test.resnet`
              OPTIONS (model_type = 'TENSORFLOW', model_path = 'gs://bucket/resnet_50/*');
            SELECT * FROM ML.PREDICT(MODEL `resnet_inference_test.resnet`,
              (SELECT uri, ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), 224, 224, FALSE) AS input_1
               FROM resnet_inference_test.vision_images))
            ORDER BY uri
            """
        )
    table = result.table
    assert table is not None
    photos = sorted(sample_images.iterdir())
    assert table.column("uri").to_pylist() == [f"gs://bucket/images/{p.name}" for p in photos]
    signature = tf.saved_model.load(str(tiny_savedmodel)).signatures["serving_default"]
    expected = signature(
        input_1=tf.constant(np.stack([tf_pipeline(p.read_bytes()) for p in photos]))
    )
    np.testing.assert_allclose(
        np.array(table.column("activation_49").to_pylist()),
        expected["activation_49"].numpy(),
        rtol=1e-4,
        atol=1e-6,
    )
    image = table.column("input_1")[0].as_py()
    assert image["shape"] == [224, 224, 3]


def test_stream_pulls_input_lazily(tiny: tuple[ModelRecord, Path]) -> None:
    record, home = tiny
    blob = photo_like_jpeg(32, 32)
    schema = pa.schema([("uri", pa.string()), ("__src", pa.binary())])
    pulled: list[int] = []

    def batches() -> Iterator[pa.RecordBatch]:
        for i in range(50):  # 200 rows, far more than two batches in flight
            pulled.append(i)
            yield pa.record_batch(
                [[f"gs://b/{i}-{j}" for j in range(4)], [blob] * 4], schema=schema
            )

    stream = predict_stream(
        load_model(record, home),
        pa.RecordBatchReader.from_batches(schema, batches()),
        FUSED,
        batch_size=4,
        progress=False,
    )
    first = stream.read_next_batch()
    assert first.num_rows == 4
    assert first.column("uri").to_pylist() == [f"gs://b/0-{j}" for j in range(4)]
    assert len(pulled) <= 3  # one batch predicted, one decoding ahead
    rest = sum(batch.num_rows for batch in stream)
    assert rest == 196 and len(pulled) == 50


def test_decoding_beside_or_before_inference_gives_the_same_rows(
    tiny: tuple[ModelRecord, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inference on every core: each batch is decoded just before it runs; on fewer, beside it."""
    record, home = tiny
    blobs = [photo_like_jpeg(64, 80, seed=s) for s in range(11)]
    uris = [f"gs://b/{i}.jpg" for i in range(len(blobs))]
    outputs = {}
    monkeypatch.delenv("SQLRUNNER_DECODE", raising=False)
    for threads in ("", "1"):
        monkeypatch.setenv("SQLRUNNER_THREADS", threads)
        expected = bool(threads) and (os.cpu_count() or 1) > 1
        assert predict_module.decode_beside_inference() is expected
        outputs[threads] = predict_stream(
            load_model(record, home),
            reader({"uri": uris, "__src": blobs}),
            FUSED,
            batch_size=4,
            progress=False,
        ).read_all()
    assert outputs[""].column("uri").to_pylist() == uris
    assert outputs[""].equals(outputs["1"])
    monkeypatch.delenv("SQLRUNNER_THREADS")
    for mode, beside in (("before", False), ("beside", True), ("AUTO", False)):
        monkeypatch.setenv("SQLRUNNER_DECODE", mode)
        assert predict_module.decode_beside_inference() is beside  # AUTO: every core infers
    monkeypatch.setenv("SQLRUNNER_DECODE", "parallel")
    with pytest.raises(EngineError, match="SQLRUNNER_DECODE must be one of"):
        predict_module.decode_beside_inference()
