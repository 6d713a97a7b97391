"""Cases A, C and D, each run in a fresh process so no runtime's threads disturb another.

`python -m bench.cases CASE --workspace workspace.json` prints one JSON object:
images, seconds and the runtime settings. Cases on pre-built batches also save the
class probabilities for all benchmark photos (untimed) for the BF16 agreement check.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench import ceiling, tensorflow_peers
from bench.tensors import full_batches
from bench.timing import Throughput
from bench.workspace import REPO_ROOT, Workspace

Infer = Callable[[np.ndarray], np.ndarray]


def _timed_batches(space: Workspace) -> list[np.ndarray]:
    return full_batches(np.asarray(space.tensors()), space.batch_size) * space.rounds


def _save_probs(space: Workspace, case: str, infer: Infer) -> None:
    tensors = space.tensors()
    chunks = [
        infer(np.ascontiguousarray(tensors[start : start + space.batch_size]))
        for start in range(0, len(tensors), space.batch_size)
    ]
    np.save(space.probs_path(case), np.concatenate(chunks))


def onnxruntime_fp32(space: Workspace) -> tuple[Throughput, str]:
    result, infer = ceiling.onnxruntime_fp32(space.onnx_path, _timed_batches(space), space.threads)
    _save_probs(space, "onnxruntime_fp32", infer)
    return result.throughput, result.settings


def _openvino(space: Workspace, precision: str) -> tuple[Throughput, str]:
    result, infer = ceiling.openvino(
        space.onnx_path, _timed_batches(space), space.threads, precision
    )
    _save_probs(space, f"openvino_{precision}", infer)
    return result.throughput, result.settings


def openvino_f32(space: Workspace) -> tuple[Throughput, str]:
    return _openvino(space, "f32")


def openvino_bf16(space: Workspace) -> tuple[Throughput, str]:
    return _openvino(space, "bf16")


def openvino_f32_streams(space: Workspace) -> tuple[Throughput, str]:
    result, _ = ceiling.openvino_streams(space.onnx_path, _timed_batches(space), space.threads)
    return result.throughput, result.settings


def tensorflow_loop(space: Workspace) -> tuple[Throughput, str]:
    photos = space.photos()
    throughput, _ = tensorflow_peers.per_image_loop(space.savedmodel_dir, photos)
    return throughput, "per image: read_file, decode_image, convert_image_dtype, resize, call"


def tensorflow_batched(space: Workspace) -> tuple[Throughput, str]:
    throughput = tensorflow_peers.batched(space.savedmodel_dir, _timed_batches(space))
    return throughput, f"serving_default on pre-built batches of {space.batch_size}"


CASES: dict[str, Callable[[Workspace], tuple[Throughput, str]]] = {
    "onnxruntime_fp32": onnxruntime_fp32,
    "openvino_f32": openvino_f32,
    "openvino_bf16": openvino_bf16,
    "openvino_f32_streams": openvino_f32_streams,
    "tensorflow_loop": tensorflow_loop,
    "tensorflow_batched": tensorflow_batched,
}


def run_subprocess(space: Workspace, case: str) -> tuple[Throughput, str]:
    command = [sys.executable, "-m", "bench.cases", case, "--workspace", str(space.spec_path)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO_ROOT)
    if completed.returncode != 0:
        raise RuntimeError(f"case {case} failed:\n{completed.stderr[-4000:]}")
    body = json.loads(completed.stdout.strip().splitlines()[-1])
    return Throughput(images=body["images"], seconds=body["seconds"]), str(body["settings"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--workspace", type=Path, required=True)
    args = parser.parse_args()
    throughput, settings = CASES[args.case](Workspace.load(args.workspace))
    body = {"images": throughput.images, "seconds": throughput.seconds, "settings": settings}
    print(json.dumps(body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
