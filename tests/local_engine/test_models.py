"""CREATE MODEL's model handling: conversion, the probe check, fallback, limits, runtimes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from bigquery_facts import MAX_MODEL_BYTES
from local_engine.errors import EngineError
from local_engine.models import ModelRecord, create_model, load_model
from local_engine.runtimes import choose_runtime, cpu_supports_bf16, openvino_hint
from tests.support.ml_lake import DirStore, put_tree


@pytest.fixture
def store(tmp_path: Path) -> DirStore:
    (tmp_path / "gcs").mkdir()
    return DirStore(tmp_path / "gcs")


@pytest.fixture(scope="module")
def converted(
    tiny_savedmodel: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ModelRecord, Path]:
    root = tmp_path_factory.mktemp("lake")
    (root / "gcs").mkdir()
    store = DirStore(root / "gcs")
    path = put_tree(store, tiny_savedmodel, "gs://bucket/resnet_50")
    return create_model("TENSORFLOW", path, store, root / "home"), root / "home"


def batch(rows: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((rows, 224, 224, 3), dtype=np.float32)


def tf_outputs(saved_model: Path, x: np.ndarray) -> np.ndarray:
    signature = tf.saved_model.load(str(saved_model)).signatures["serving_default"]
    return signature(input_1=tf.constant(x))["activation_49"].numpy()


def test_savedmodel_record_has_signature_and_onnx_artifact(
    converted: tuple[ModelRecord, Path],
) -> None:
    record, home = converted
    assert record.model_type == "TENSORFLOW"
    assert record.runtime == "onnx"
    assert [(t.name, t.dtype, t.shape) for t in record.features] == [
        ("input_1", "float32", (None, 224, 224, 3))
    ]
    assert [(t.name, t.dtype, t.shape) for t in record.labels] == [
        ("activation_49", "float32", (None, 1001))
    ]
    assert (home / "models" / record.artifact).is_file()
    assert record.artifact == f"{record.content_hash}/model.onnx"
    assert ModelRecord.from_json(record.to_json()) == record


def test_savedmodel_to_onnx_agrees_with_tensorflow(
    converted: tuple[ModelRecord, Path], tiny_savedmodel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record, home = converted
    x = batch(4, seed=11)
    expected = tf_outputs(tiny_savedmodel, x)
    for runtime in ("onnxruntime", "openvino", "tensorflow"):
        monkeypatch.setenv("SQLRUNNER_RUNTIME", runtime)
        got = load_model(record, home).predict({"input_1": x})["activation_49"]
        assert got.shape == (4, 1001)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6, err_msg=runtime)
        assert np.argmax(got, axis=1).tolist() == np.argmax(expected, axis=1).tolist()


def test_same_files_reuse_the_cached_conversion(
    converted: tuple[ModelRecord, Path], tiny_savedmodel: Path, tmp_path: Path
) -> None:
    record, home = converted
    onnx = home / "models" / record.artifact
    before = onnx.stat().st_mtime_ns
    other = DirStore(tmp_path)
    path = put_tree(other, tiny_savedmodel, "gs://elsewhere/copy")
    again = create_model("TENSORFLOW", path, other, home)
    assert again.content_hash == record.content_hash
    assert again.model_path == path
    assert onnx.stat().st_mtime_ns == before


def test_onnx_model_type(
    converted: tuple[ModelRecord, Path], store: DirStore, tmp_path: Path
) -> None:
    record, home = converted
    (store.root / "b").mkdir()
    (store.root / "b" / "model.onnx").write_bytes((home / "models" / record.artifact).read_bytes())
    onnx_record = create_model("ONNX", "gs://b/model.onnx", store, tmp_path / "home")
    assert onnx_record.runtime == "onnx"
    assert [t.name for t in onnx_record.features] == ["input_1"]
    assert onnx_record.labels[0].shape == (None, 1001)
    x = batch(2)
    np.testing.assert_allclose(
        load_model(onnx_record, tmp_path / "home").predict({"input_1": x})["activation_49"],
        load_model(record, home).predict({"input_1": x})["activation_49"],
        rtol=1e-4,
        atol=1e-6,
    )


def test_unconvertible_savedmodel_falls_back_to_tensorflow(
    store: DirStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    class Special(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="input_1")])
        def serve(self, input_1: tf.Tensor) -> dict[str, tf.Tensor]:
            # no ONNX equivalent: tf2onnx leaves the op in, ONNX Runtime cannot load it
            return {"out": tf.math.special.bessel_y0(input_1 + 1.0)}

    module = Special()
    tf.saved_model.save(
        module, str(tmp_path / "special"), signatures={"serving_default": module.serve}
    )
    path = put_tree(store, tmp_path / "special", "gs://b/special")
    record = create_model("TENSORFLOW", path, store, tmp_path / "home")
    assert record.runtime == "tensorflow"
    assert "running it on TensorFlow" in capsys.readouterr().err
    x = np.array([[0.5, 1.0, 2.0, 3.0]], dtype=np.float32)
    got = load_model(record, tmp_path / "home").predict({"input_1": x})["out"]
    np.testing.assert_allclose(got, tf.math.special.bessel_y0(x + 1.0).numpy(), rtol=1e-6)


def test_tflite_model_type(tiny_savedmodel: Path, store: DirStore, tmp_path: Path) -> None:
    tflite = tf.lite.TFLiteConverter.from_saved_model(str(tiny_savedmodel)).convert()
    (store.root / "b").mkdir()
    (store.root / "b" / "model.tflite").write_bytes(tflite)
    record = create_model("TENSORFLOW_LITE", "gs://b/*", store, tmp_path / "home")
    assert record.runtime == "tflite"
    assert record.features[0].shape[1:] == (224, 224, 3)
    x = batch(2, seed=5)
    feeds = {record.features[0].name: x}
    got = next(iter(load_model(record, tmp_path / "home").predict(feeds).values()))
    np.testing.assert_allclose(got, tf_outputs(tiny_savedmodel, x), rtol=1e-4, atol=1e-6)


def test_missing_model_path(store: DirStore, tmp_path: Path) -> None:
    with pytest.raises(EngineError, match=r"model_path gs://b/none/\* matches no files"):
        create_model("TENSORFLOW", "gs://b/none/*", store, tmp_path)


def test_wrong_model_type_names_the_path(
    converted: tuple[ModelRecord, Path], tiny_savedmodel: Path, store: DirStore, tmp_path: Path
) -> None:
    path = put_tree(store, tiny_savedmodel, "gs://b/sm")
    with pytest.raises(
        EngineError, match=r"model_type ONNX needs exactly one \.onnx file at gs://b/sm/\*"
    ):
        create_model("ONNX", path, store, tmp_path)
    with pytest.raises(EngineError, match="model_type 'PYTORCH' is not supported"):
        create_model("PYTORCH", path, store, tmp_path)
    (store.root / "c").mkdir()
    (store.root / "c" / "model.onnx").write_bytes(b"not onnx")
    with pytest.raises(EngineError, match="model_type TENSORFLOW needs a SavedModel"):
        create_model("TENSORFLOW", "gs://c/*", store, tmp_path)
    with pytest.raises(EngineError, match=r"ONNX model at gs://c/model\.onnx cannot be loaded"):
        create_model("ONNX", "gs://c/model.onnx", store, tmp_path)


def test_model_over_450_mb_is_refused(store: DirStore, tmp_path: Path) -> None:
    folder = store.root / "big" / "m"
    folder.mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"x")
    with (folder / "variables.data").open("wb") as sparse:  # sparse: no disk used
        sparse.truncate(MAX_MODEL_BYTES + 1)
    with pytest.raises(
        EngineError,
        match=r"gs://big/m/\* is 450,000,002 bytes; BigQuery imports models of less than 450 MB",
    ):
        create_model("TENSORFLOW", "gs://big/m/*", store, tmp_path)
    assert not list((tmp_path / "models").glob("*")) if (tmp_path / "models").exists() else True


def test_input_shape_mismatch(converted: tuple[ModelRecord, Path]) -> None:
    record, home = converted
    with pytest.raises(
        EngineError,
        match=r"input shape mismatch: feature input_1 .* takes \[-1, 224, 224, 3\], got \[1, 100, 100, 3\]",
    ):
        load_model(record, home).predict({"input_1": np.zeros((1, 100, 100, 3), np.float32)})
    with pytest.raises(EngineError, match="needs the feature input_1"):
        load_model(record, home).predict({"image": np.zeros((1, 224, 224, 3), np.float32)})


def test_runtime_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SQLRUNNER_RUNTIME", raising=False)
    monkeypatch.delenv("SQLRUNNER_PRECISION", raising=False)
    assert choose_runtime("onnx", "tensorflow").runtime == "openvino"
    assert choose_runtime("tensorflow", "tensorflow").runtime == "tensorflow"
    monkeypatch.setenv("SQLRUNNER_RUNTIME", "onnxruntime")
    assert choose_runtime("onnx", "onnx").runtime == "onnxruntime"
    with pytest.raises(EngineError, match="cannot run this model"):
        choose_runtime("tensorflow", "tensorflow")
    monkeypatch.setenv("SQLRUNNER_RUNTIME", "tensorflow")
    with pytest.raises(EngineError, match="cannot run this model"):
        choose_runtime("onnx", "onnx")
    monkeypatch.setenv("SQLRUNNER_RUNTIME", "cuda")
    with pytest.raises(EngineError, match="SQLRUNNER_RUNTIME must be one of"):
        choose_runtime("onnx", "onnx")
    monkeypatch.setenv("SQLRUNNER_RUNTIME", "onnxruntime")
    monkeypatch.setenv("SQLRUNNER_PRECISION", "bf16")
    with pytest.raises(EngineError, match="bf16 runs on OpenVINO only"):
        choose_runtime("onnx", "onnx")
    monkeypatch.setenv("SQLRUNNER_PRECISION", "int4")
    with pytest.raises(EngineError, match="SQLRUNNER_PRECISION must be one of"):
        choose_runtime("onnx", "onnx")


def test_each_setting_gets_its_own_loaded_model(
    converted: tuple[ModelRecord, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    record, home = converted
    monkeypatch.setenv("SQLRUNNER_RUNTIME", "openvino")
    for name in ("SQLRUNNER_PRECISION", "SQLRUNNER_THREADS", "SQLRUNNER_OPENVINO_HINT"):
        monkeypatch.delenv(name, raising=False)
    default = load_model(record, home)
    assert load_model(record, home) is default  # the same settings: loaded once
    monkeypatch.setenv("SQLRUNNER_THREADS", "1")
    one_thread = load_model(record, home)
    monkeypatch.setenv("SQLRUNNER_OPENVINO_HINT", "latency")
    latency = load_model(record, home)
    assert len({id(default), id(one_thread), id(latency)}) == 3
    choice = choose_runtime("onnx", "tensorflow")
    assert (choice.threads, choice.openvino_hint) == (1, "LATENCY")


def test_openvino_streams_give_the_latency_outputs_in_order(
    converted: tuple[ModelRecord, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    record, home = converted
    monkeypatch.setenv("SQLRUNNER_RUNTIME", "openvino")
    monkeypatch.delenv("SQLRUNNER_PRECISION", raising=False)
    x = batch(5, seed=4)  # an odd batch: the streams get unequal slices
    outputs = {}
    for hint in ("latency", "throughput"):
        monkeypatch.setenv("SQLRUNNER_OPENVINO_HINT", hint)
        outputs[hint] = load_model(record, home).predict({"input_1": x})["activation_49"]
    assert outputs["throughput"].shape == (5, 1001)
    np.testing.assert_array_equal(outputs["throughput"], outputs["latency"])
    monkeypatch.setenv("SQLRUNNER_OPENVINO_HINT", "fast")
    with pytest.raises(EngineError, match="SQLRUNNER_OPENVINO_HINT must be one of"):
        openvino_hint()
    monkeypatch.delenv("SQLRUNNER_OPENVINO_HINT")
    assert openvino_hint() == "THROUGHPUT"


def test_bf16_runs_or_is_refused_by_cpu(
    converted: tuple[ModelRecord, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    record, home = converted
    monkeypatch.setenv("SQLRUNNER_RUNTIME", "openvino")
    monkeypatch.setenv("SQLRUNNER_PRECISION", "bf16")
    x = batch(2, seed=9)
    if cpu_supports_bf16():
        got = load_model(record, home).predict({"input_1": x})["activation_49"]
        monkeypatch.setenv("SQLRUNNER_PRECISION", "fp32")
        fp32 = load_model(record, home).predict({"input_1": x})["activation_49"]
        assert np.abs(got - fp32).max() < 0.05
        assert np.argmax(got, 1).tolist() == np.argmax(fp32, 1).tolist()
    else:
        with pytest.raises(EngineError, match="needs a CPU with AVX512-BF16 or AMX"):
            load_model(record, home)
    assert os.environ["SQLRUNNER_RUNTIME"] == "openvino"


@pytest.mark.slow
def test_resnet50_standin_converts_and_agrees_on_photos(
    standin_savedmodel: Path, sample_images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from local_engine.decode import decode_rgb
    from local_engine.imageops import resize_bilinear

    store = DirStore(tmp_path / "gcs")
    (tmp_path / "gcs").mkdir()
    record = create_model(
        "TENSORFLOW",
        put_tree(store, standin_savedmodel, "gs://b/resnet_50"),
        store,
        tmp_path / "home",
    )
    assert record.runtime == "onnx"  # converted, and the probe batch agreed
    photos = sorted(sample_images.iterdir())[:4]
    x = np.stack([resize_bilinear(decode_rgb(p.read_bytes()), 224, 224) for p in photos])
    expected = tf_outputs(standin_savedmodel, x)
    for runtime in ("openvino", "onnxruntime"):
        monkeypatch.setenv("SQLRUNNER_RUNTIME", runtime)
        got = load_model(record, tmp_path / "home").predict({"input_1": x})["activation_49"]
        np.testing.assert_allclose(got, expected, atol=1e-4, err_msg=runtime)
        assert np.argmax(got, 1).tolist() == np.argmax(expected, 1).tolist()


def test_model_with_batch_of_one_runs_row_by_row(store: DirStore, tmp_path: Path) -> None:
    class OneAtATime(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, 8, 8, 3], tf.float32, name="input_1")])
        def serve(self, input_1: tf.Tensor) -> dict[str, tf.Tensor]:
            return {"mean": tf.reduce_mean(input_1, axis=[1, 2])}

    module = OneAtATime()
    tf.saved_model.save(module, str(tmp_path / "one"), signatures={"serving_default": module.serve})
    record = create_model(
        "TENSORFLOW", put_tree(store, tmp_path / "one", "gs://b/one"), store, tmp_path / "home"
    )
    assert record.features[0].shape == (1, 8, 8, 3)
    x = np.random.default_rng(2).random((3, 8, 8, 3), dtype=np.float32)
    got = load_model(record, tmp_path / "home").predict({"input_1": x})["mean"]
    np.testing.assert_allclose(got, x.mean(axis=(1, 2)), rtol=1e-5)
