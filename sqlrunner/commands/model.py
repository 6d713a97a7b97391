"""`python -m sqlrunner model show dataset.model [--home DIR] [--json]`: inspect a created model.

Prints the model's type, where it came from, the artifact and runtime it runs on, and
its features and labels with dtypes and shapes (the walkthrough's "inspect the model"),
then what the lake's stack outputs tell the templates about the model (feature and
output names, image size, class count and whether index 0 is "background").
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from pipeline.errors import SqlRunnerError
from pipeline.outputs import read_local_outputs
from sqlrunner.commands import add_command, add_home_argument
from sqlrunner.outputs_file import lake_home


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "model",
        help="inspect a model of the local lake",
        description="Show a model created with CREATE MODEL on the local lake.",
        examples=(
            "python -m sqlrunner model show resnet_inference_test.resnet",
            "python -m sqlrunner model show resnet_inference_test.resnet --json",
        ),
    )
    parser.add_argument("action", choices=["show"], help="what to do")
    parser.add_argument("name", help="dataset.model (or local-lake.dataset.model)")
    add_home_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the model as one JSON object")
    parser.set_defaults(func=run)


def _model_name(text: str) -> tuple[str, str]:
    from local_engine.names import check_project

    parts = [p for p in text.replace("`", "").split(".") if p]
    if len(parts) == 3:
        check_project(parts[0], f"model {text}")
        parts = parts[1:]
    if len(parts) != 2:
        raise SqlRunnerError(f"model name {text!r} must be dataset.model")
    return parts[0], parts[1]


def run(args: argparse.Namespace) -> int:
    from local_engine.engine import LocalEngine
    from local_engine.names import TableName
    from local_engine.records import ModelRecord
    from local_engine.runtimes import choose_runtime

    home = lake_home(args.home)
    if not home.is_dir():
        raise SqlRunnerError(f"no local lake at {home} (set --home or SQLRUNNER_HOME)")
    dataset, name = _model_name(args.name)
    with LocalEngine(home, progress=False) as engine:
        text = engine.catalog.model_json(TableName(dataset, name))
    if text is None:
        raise SqlRunnerError(f"model {dataset}.{name} not found in {home}")
    record = ModelRecord.from_json(text)
    outputs = read_local_outputs(home)
    templates = outputs.model_spec().as_outputs() if outputs else None
    model_title = outputs.model_description if outputs else None
    source_format = "tensorflow" if record.model_type == "TENSORFLOW" else record.runtime
    choice = choose_runtime(record.runtime, source_format)
    if args.json:
        print(
            json.dumps(
                {
                    "model": f"{dataset}.{name}",
                    "model_type": record.model_type,
                    "model_path": record.model_path,
                    "artifact": record.runtime,
                    "runtime": choice.runtime,
                    "precision": choice.precision,
                    "content_hash": record.content_hash,
                    "features": [_tensor_json(t) for t in record.features],
                    "labels": [_tensor_json(t) for t in record.labels],
                    "templates": templates,
                    "model_description": model_title,
                },
                indent=2,
            )
        )
        return 0
    print(f"model       {dataset}.{name}")
    print(f"type        {record.model_type}")
    print(f"path        {record.model_path}")
    print(f"artifact    {record.runtime} (runs on {choice.runtime}, {choice.precision})")
    print(f"hash        {record.content_hash}")
    width = max((len(t.name) for t in record.features + record.labels), default=0)
    for title, tensors in (("features", record.features), ("labels", record.labels)):
        print(title)
        for tensor in tensors:
            print(f"  {tensor.name:<{width}}  {tensor.dtype:<8}  {tensor.shape_text()}")
    if templates is None:
        print(f"templates   no stack outputs in {home} (run `make demo` or `run`)")
        return 0
    print(
        f"templates   rendered for {model_title or 'the walkthrough ResNet-50'} ({home}/outputs.json)"
    )
    background = "index 0 background" if templates["background_class"] else "no background class"
    print(f"  model_input       {templates['model_input']}")
    print(f"  model_output      {templates['model_output']}")
    print(f"  image_size        {templates['image_size']}")
    print(f"  class_count       {templates['class_count']} ({background})")
    return 0


def _tensor_json(tensor: Any) -> dict[str, Any]:
    return {
        "name": tensor.name,
        "dtype": tensor.dtype,
        "shape": [-1 if d is None else d for d in tensor.shape],
    }
