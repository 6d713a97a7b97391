"""TensorFlow's image ops in numpy: convert_image_dtype, resize (bilinear), colour spaces.

Each function reproduces the TensorFlow op BigQuery ML runs imported models with, in
the same float precision, so results agree to the last bit or within float rounding.
"""

from __future__ import annotations

import numpy as np

from sqlrunner.errors import SqlRunnerError

_UINT8_SCALE = np.float32(1.0 / 255.0)

# tf.image.rgb_to_yiq / rgb_to_yuv kernels and rgb_to_grayscale weights.
_RGB_TO_YIQ = np.array(
    [
        [0.299, 0.59590059, 0.2115],
        [0.587, -0.27455667, -0.52273617],
        [0.114, -0.32134392, 0.31119955],
    ]
)
_RGB_TO_YUV = np.array(
    [
        [0.299, -0.14714119, 0.61497538],
        [0.587, -0.28886916, -0.51496512],
        [0.114, 0.43601035, -0.10001026],
    ]
)
_GRAY_WEIGHTS = np.array([0.2989, 0.5870, 0.1140])
COLOR_SPACES = ("HSV", "GRAYSCALE", "YIQ", "YUV")


def uint8_to_float(pixels: np.ndarray) -> np.ndarray:
    """tf.image.convert_image_dtype(uint8 -> float32): x * (1/255) in float32."""
    return pixels.astype(np.float32) * _UINT8_SCALE


def float_to_uint8(pixels: np.ndarray) -> np.ndarray:
    """tf.image.convert_image_dtype(float -> uint8, saturate): trunc(x * 255.5) clipped."""
    scaled = np.asarray(pixels, dtype=np.float64) * 255.5
    return np.clip(np.trunc(scaled), 0, 255).astype(np.uint8)


def resized_shape(
    height: int, width: int, target_h: int, target_w: int, preserve: bool
) -> tuple[int, int]:
    """The output size of tf.image.resize, including its preserve_aspect_ratio rule."""
    if target_h <= 0 or target_w <= 0:
        raise SqlRunnerError(
            f"ML.RESIZE_IMAGE target size must be positive, got {target_h} x {target_w}"
        )
    if not preserve:
        return target_h, target_w
    # TensorFlow: scale = min(th / h, tw / w) in float32, sizes rounded half to even.
    scale = min(np.float32(target_h) / np.float32(height), np.float32(target_w) / np.float32(width))
    out_h = int(np.round(np.float32(scale) * np.float32(height)))
    out_w = int(np.round(np.float32(scale) * np.float32(width)))
    return max(out_h, 1), max(out_w, 1)


def _interpolation(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper source indices and the lerp weight, half-pixel centres (TF2)."""
    scale = np.float32(in_size) / np.float32(out_size)
    centres = (np.arange(out_size, dtype=np.float32) + np.float32(0.5)) * scale - np.float32(0.5)
    floor = np.floor(centres)
    lower = np.maximum(floor, 0).astype(np.intp)
    upper = np.minimum(np.ceil(centres), in_size - 1).astype(np.intp)
    lerp = (centres - floor).astype(np.float32)
    return lower, upper, lerp


def resize_bilinear(image: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """tf.image.resize(method='bilinear', antialias=False) of one (H, W, C) image, as float32.

    A uint8 image is converted to [0, 1] floats first, pixel by pixel on the gathered
    corners only, which gives the same numbers as converting the whole image.
    """
    in_h, in_w = image.shape[0], image.shape[1]
    y0, y1, ylerp = _interpolation(in_h, out_h)
    x0, x1, xlerp = _interpolation(in_w, out_w)

    def corners(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        band = image[rows]
        left, right = band[:, x0], band[:, x1]
        if image.dtype == np.uint8:
            return uint8_to_float(left), uint8_to_float(right)
        return left.astype(np.float32), right.astype(np.float32)

    xl = xlerp[None, :, None]
    top_left, top_right = corners(y0)
    top = top_left + (top_right - top_left) * xl
    bottom_left, bottom_right = corners(y1)
    bottom = bottom_left + (bottom_right - bottom_left) * xl
    out: np.ndarray = top + (bottom - top) * ylerp[:, None, None]
    return out


def convert_color_space(rgb: np.ndarray, target: str) -> np.ndarray:
    """tf.image.rgb_to_hsv / rgb_to_grayscale / rgb_to_yiq / rgb_to_yuv on float RGB."""
    space = target.upper()
    if rgb.shape[-1] != 3:
        raise SqlRunnerError(
            f"ML.CONVERT_COLOR_SPACE needs an RGB image with 3 channels, got {rgb.shape[-1]}"
        )
    pixels = np.asarray(rgb, dtype=np.float64)
    if space == "GRAYSCALE":
        gray: np.ndarray = pixels @ _GRAY_WEIGHTS
        return gray[..., None]
    if space == "YIQ":
        yiq: np.ndarray = pixels @ _RGB_TO_YIQ
        return yiq
    if space == "YUV":
        yuv: np.ndarray = pixels @ _RGB_TO_YUV
        return yuv
    if space == "HSV":
        return _rgb_to_hsv(pixels)
    raise SqlRunnerError(
        f"ML.CONVERT_COLOR_SPACE target {target!r} is not one of {', '.join(COLOR_SPACES)}"
    )


def _rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    value = np.max(rgb, axis=-1)
    spread = value - np.min(rgb, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        saturation = np.where(value > 0, spread / value, 0.0)
        norm = 1.0 / (6.0 * spread)
        hue = np.where(
            r == value,
            norm * (g - b),
            np.where(g == value, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0),
        )
    hue = np.where(spread > 0, hue, 0.0)
    hue = np.where(hue < 0, hue + 1.0, hue)
    return np.stack([hue, saturation, value], axis=-1)
