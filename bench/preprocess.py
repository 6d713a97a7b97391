"""Case E: preprocessing alone (decode and resize to 224x224), on one core.

Runs in its own process pinned to one CPU before anything is imported, so whatever
threads a decoder or resizer starts share that core: the figure is images/s per core.
`python -m bench.preprocess --photos DIR --count N --impl engine|tensorflow` prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _tensorflow_preprocess() -> Callable[[bytes], object]:
    import tensorflow as tf

    def run(data: bytes) -> object:
        image = tf.io.decode_image(data, channels=3, expand_animations=False)
        image = tf.image.convert_image_dtype(image, tf.float32)
        return tf.image.resize(image, [224, 224], method="bilinear").numpy()

    return run


def _engine_preprocess() -> Callable[[bytes], object]:
    """The engine's own per-image step of ML.PREDICT, writing into a reused batch slot."""
    import numpy as np

    from local_engine.predict import preprocess_image

    slot = np.empty((224, 224, 3), np.float32)

    def run(data: bytes) -> object:
        return preprocess_image(data, None, (224, 224, False), "input_1", slot)

    return run


IMPLEMENTATIONS = {"engine": _engine_preprocess, "tensorflow": _tensorflow_preprocess}


def time_preprocessing(photos: list[Path], impl: str) -> float:
    """Images per second of decode+resize over `photos`, after one warm-up image."""
    preprocess = IMPLEMENTATIONS[impl]()
    blobs = [path.read_bytes() for path in photos]
    preprocess(blobs[0])
    start = time.perf_counter()
    for blob in blobs:
        preprocess(blob)
    return len(blobs) / (time.perf_counter() - start)


def run_subprocess(photos_dir: Path, count: int, impl: str) -> float:
    command = [sys.executable, "-m", "bench.preprocess", "--photos", str(photos_dir)]
    command += ["--count", str(count), "--impl", impl]
    completed = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO_ROOT)
    if completed.returncode != 0:
        raise RuntimeError(f"preprocessing run failed:\n{completed.stderr[-4000:]}")
    return float(json.loads(completed.stdout.strip().splitlines()[-1])["images_per_second"])


def main() -> int:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=Path, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--impl", choices=sorted(IMPLEMENTATIONS), default="engine")
    args = parser.parse_args()
    photos = sorted(args.photos.glob("photo_*.jpg"))[: args.count]
    print(json.dumps({"images_per_second": time_preprocessing(photos, args.impl)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
