"""EfficientNet-Lite0's forward pass in plain numpy (float64), to check the SavedModel against.

Written from efficientnet_pytorch's definition, not from the builder: PyTorch-layout
weights as read from the checkpoint, batch norm unfolded, "same" padding spelled out
(the odd pixel at the bottom/right), TF's half-pixel bilinear resize for the crop.
"""

from __future__ import annotations

import numpy as np

# (repeats, kernel, stride, expand ratio, output channels) per stage.
_STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
           (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))  # fmt: skip
_EPS = 1e-3


def _same_pad(x: np.ndarray, kernel: int, stride: int) -> np.ndarray:
    size = x.shape[1]
    out = -(-size // stride)
    pad = max((out - 1) * stride + kernel - size, 0)
    before, after = pad // 2, pad - pad // 2
    return np.pad(x, ((0, 0), (before, after), (before, after), (0, 0)))


def _conv(x: np.ndarray, weight: np.ndarray, stride: int) -> np.ndarray:
    """NHWC input, PyTorch [out, in, k, k] weight, "same" padding."""
    k = weight.shape[2]
    padded = _same_pad(x, k, stride)
    out = -(-x.shape[1] // stride)
    result = np.zeros((x.shape[0], out, out, weight.shape[0]))
    for i in range(k):
        for j in range(k):
            patch = padded[:, i : i + stride * out : stride, j : j + stride * out : stride, :]
            result += patch @ weight[:, :, i, j].T.astype(np.float64)
    return result


def _depthwise(x: np.ndarray, weight: np.ndarray, stride: int) -> np.ndarray:
    """NHWC input, PyTorch [channels, 1, k, k] weight, "same" padding."""
    k = weight.shape[2]
    padded = _same_pad(x, k, stride)
    out = -(-x.shape[1] // stride)
    result = np.zeros((x.shape[0], out, out, x.shape[3]))
    for i in range(k):
        for j in range(k):
            patch = padded[:, i : i + stride * out : stride, j : j + stride * out : stride, :]
            result += patch * weight[:, 0, i, j].astype(np.float64)
    return result


def _bn(x: np.ndarray, w: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    mean = w[f"{prefix}.running_mean"].astype(np.float64)
    var = w[f"{prefix}.running_var"].astype(np.float64)
    gamma = w[f"{prefix}.weight"].astype(np.float64)
    beta = w[f"{prefix}.bias"].astype(np.float64)
    return (x - mean) / np.sqrt(var + _EPS) * gamma + beta


def _relu6(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.clip(x, 0.0, 6.0))


def _resize_bilinear(x: np.ndarray, size: int) -> np.ndarray:
    """tf.image.resize(method="bilinear") for upsampling: half-pixel centres, edges clamped."""

    def axis(length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        src = (np.arange(size) + 0.5) * (length / size) - 0.5
        src = np.clip(src, 0.0, None)
        low = np.floor(src).astype(int)
        high = np.minimum(low + 1, length - 1)
        return low, high, src - low

    lo, hi, f = axis(x.shape[1])
    rows = x[:, lo] * (1 - f)[None, :, None, None] + x[:, hi] * f[None, :, None, None]
    lo, hi, f = axis(x.shape[2])
    out = rows[:, :, lo] * (1 - f)[None, None, :, None] + rows[:, :, hi] * f[None, None, :, None]
    return np.asarray(out)


def preprocess(images: np.ndarray) -> np.ndarray:
    """[0, 1] RGB 224x224: central 196x196 (0.875), bilinear back to 224, (255x - 127) / 128."""
    x = images.astype(np.float64)
    crop = x[:, 14:210, 14:210, :]
    return (_resize_bilinear(crop, 224) * 255.0 - 127.0) / 128.0


def forward(images: np.ndarray, w: dict[str, np.ndarray]) -> np.ndarray:
    """Softmax probabilities [n, 1000] for [n, 224, 224, 3] images in [0, 1]."""
    x = _relu6(_bn(_conv(preprocess(images), w["_conv_stem.weight"], 2), w, "_bn0"))
    index = 0
    channels = 32
    for repeats, _kernel, stride, expand, out_channels in _STAGES:
        for repeat in range(repeats):
            p = f"_blocks.{index}"
            inputs = x
            s = stride if repeat == 0 else 1
            if expand != 1:
                x = _relu6(_bn(_conv(x, w[f"{p}._expand_conv.weight"], 1), w, f"{p}._bn0"))
            x = _relu6(_bn(_depthwise(x, w[f"{p}._depthwise_conv.weight"], s), w, f"{p}._bn1"))
            x = _bn(_conv(x, w[f"{p}._project_conv.weight"], 1), w, f"{p}._bn2")
            if s == 1 and channels == out_channels:
                x = x + inputs
            channels = out_channels
            index += 1
    x = _relu6(_bn(_conv(x, w["_conv_head.weight"], 1), w, "_bn1"))
    logits = x.mean(axis=(1, 2)) @ w["_fc.weight"].T.astype(np.float64) + w["_fc.bias"]
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=1, keepdims=True))
