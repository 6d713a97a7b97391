"""What the report says about the machine: CPU model, cores, BF16 support, versions."""

from __future__ import annotations

import importlib.metadata
import os
import platform
from dataclasses import dataclass
from pathlib import Path

PACKAGES = (
    "duckdb",
    "sqlglot",
    "pyarrow",
    "numpy",
    "onnxruntime",
    "openvino",
    "tensorflow-cpu",
    "tensorflow",
    "keras",
    "tf2onnx",
    "onnx",
    "pillow",
)


@dataclass(frozen=True)
class MachineInfo:
    cpu_model: str
    cores: int
    bf16: bool
    python: str
    versions: dict[str, str]


def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def cpu_model() -> str:
    for line in _cpuinfo().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def cpu_has_bf16() -> bool:
    """Whether the CPU flags list AVX512-BF16 or AMX-BF16."""
    return bool(set(_cpuinfo().split()) & {"avx512_bf16", "amx_bf16"})


def usable_cores() -> int:
    return len(os.sched_getaffinity(0))


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def describe_machine() -> MachineInfo:
    return MachineInfo(
        cpu_model=cpu_model(),
        cores=usable_cores(),
        bf16=cpu_has_bf16(),
        python=platform.python_version(),
        versions=package_versions(),
    )
