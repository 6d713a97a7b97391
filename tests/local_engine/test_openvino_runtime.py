"""OpenVINO must load without its conversion tools, which phone home at import."""

import subprocess
import sys

from tests.support.paths import REPO


def test_openvino_loads_without_telemetry() -> None:
    code = (
        "import sys\n"
        "from local_engine.openvino_runtime import import_openvino\n"
        "ov = import_openvino()\n"
        "assert ov.Core().available_devices, 'no OpenVINO device'\n"
        "loaded = [m for m in sys.modules if m.startswith(('openvino_telemetry', 'openvino.tools'))]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_no_module_imports_openvino_directly() -> None:
    """Every OpenVINO user goes through import_openvino (the engine, the benchmark)."""
    root = REPO
    direct = [
        f"{path.relative_to(root)}:{number}"
        for folder in ("local_engine", "pipeline", "sqlrunner", "bench", "infra")
        for path in sorted((root / folder).rglob("*.py"))
        if path.name != "openvino_runtime.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if line.strip().startswith(("import openvino", "from openvino"))
    ]
    assert direct == []
