"""Import OpenVINO's runtime without its model-conversion tools.

`import openvino` also imports `openvino.tools.ovc`, which sends a usage event over the
network at import time and writes a client id under `~/intel`. The engine only needs the
runtime (`openvino.Core` reading ONNX), and `openvino/__init__.py` skips the tools when
their import fails, so the tools package is masked while OpenVINO loads.
"""

from __future__ import annotations

import sys
from types import ModuleType

_TOOLS = "openvino.tools.ovc"


def import_openvino() -> ModuleType:
    masked = "openvino" not in sys.modules and _TOOLS not in sys.modules
    if masked:
        sys.modules[_TOOLS] = None  # type: ignore[assignment]
    try:
        import openvino
    finally:
        if masked and sys.modules.get(_TOOLS, ...) is None:
            del sys.modules[_TOOLS]
    module: ModuleType = openvino
    return module
