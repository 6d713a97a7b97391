"""OpenVINO must load without its conversion tools, which phone home at import."""

import subprocess
import sys


def test_openvino_loads_without_telemetry() -> None:
    code = (
        "import sys\n"
        "from sqlrunner.local.openvino_runtime import import_openvino\n"
        "ov = import_openvino()\n"
        "assert ov.Core().available_devices, 'no OpenVINO device'\n"
        "loaded = [m for m in sys.modules if m.startswith(('openvino_telemetry', 'openvino.tools'))]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
