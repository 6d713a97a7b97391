"""The catalog GoogleSQL analyzes a template against: the stack as the statements change it.

It starts with what Pulumi creates (the object table, its `data` pseudocolumn included)
and follows the statements: a CREATE TABLE adds its columns, a CREATE MODEL adds the
model with its signature's features and labels, a DROP removes. It also holds the `ML.*`
functions with BigQuery's documented types and, per statement, the ML.PREDICT table
function whose output is its input query's columns plus the model's labels.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bigquery_facts import ML_IMAGE_FUNCTIONS, OBJECT_TABLE_COLUMNS, OBJECT_TABLE_PSEUDO_COLUMNS
from pipeline.googlesql.model import ModelSignature
from pipeline.googlesql.types import TypeDict, type_proto

Json = dict[str, Any]
# The group GoogleSQL gives its own functions: error messages then name them plainly
# (`ML.DECODE_IMAGE`, not `group:ML.DECODE_IMAGE`), as BigQuery does.
_BUILTIN_GROUP = "ZetaSQL"


@dataclass(frozen=True)
class Column:
    name: str
    type: TypeDict
    pseudo: bool = False

    def proto(self) -> Json:
        column: Json = {"name": self.name, "type": self.type}
        if self.pseudo:
            column["isPseudoColumn"] = True
        return column


def object_table_columns() -> list[Column]:
    return [Column(n, type_proto(t)) for n, t in OBJECT_TABLE_COLUMNS] + [
        Column(n, type_proto(t), pseudo=True) for n, t in OBJECT_TABLE_PSEUDO_COLUMNS
    ]


def _fixed(type_: TypeDict, name: str = "") -> Json:
    argument: Json = {"kind": "ARG_TYPE_FIXED", "type": type_, "numOccurrences": 1}
    argument["options"] = {"cardinality": "REQUIRED", **({"argumentName": name} if name else {})}
    return argument


def ml_functions() -> list[Json]:
    """ML.DECODE_IMAGE, ML.RESIZE_IMAGE, ... with the argument and result types BigQuery documents."""
    functions = []
    for name, (arguments, result) in ML_IMAGE_FUNCTIONS.items():
        signature = {
            "argument": [_fixed(type_proto(t)) for _, t in arguments],
            "returnType": _fixed(type_proto(result)),
        }
        functions.append(
            {
                "namePath": ["ML", name],
                "group": _BUILTIN_GROUP,
                "mode": "SCALAR",
                "signature": [signature],
            }
        )
    return functions


def ml_predict(output: list[Column]) -> Json:
    """ML.PREDICT(MODEL m, relation) returning exactly `output` (the two-pass schema)."""
    relation = {"column": [{"name": c.name, "type": c.type} for c in output]}
    required = {"numOccurrences": 1, "options": {"cardinality": "REQUIRED"}}
    return {
        "namePath": ["ML", "PREDICT"],
        "type": "FIXED_OUTPUT_SCHEMA_TVF",
        "signature": {
            "argument": [
                {"kind": "ARG_TYPE_MODEL", **required},
                {"kind": "ARG_TYPE_RELATION", **required},
            ],
            "returnType": {
                "kind": "ARG_TYPE_RELATION",
                "numOccurrences": 1,
                "options": {"relationInputSchema": relation},
            },
        },
    }


def _key(name: str) -> str:
    # GoogleSQL's catalog lookups ignore case; so do ours.
    return name.lower()


@dataclass
class StackCatalog:
    tables: dict[str, tuple[str, list[Column]]] = field(default_factory=dict)
    models: dict[str, tuple[str, ModelSignature]] = field(default_factory=dict)

    @classmethod
    def of_stack(cls, object_table_id: str) -> StackCatalog:
        catalog = cls()
        catalog.add_table(object_table_id, object_table_columns())
        return catalog

    def add_table(self, name: str, columns: list[Column]) -> None:
        self.tables[_key(name)] = (name, columns)

    def add_model(self, name: str, signature: ModelSignature) -> None:
        self.models[_key(name)] = (name, signature)

    def drop(self, name: str) -> None:
        self.tables.pop(_key(name), None)
        self.models.pop(_key(name), None)

    def model(self, name: str) -> ModelSignature | None:
        found = self.models.get(_key(name))
        return None if found is None else found[1]

    def proto(self, language_options: Json, predict_output: list[Column] | None = None) -> Json:
        """The SimpleCatalogProto (JSON form). Each id is reachable as one back-quoted name
        (`project.dataset.table`) and as its parts (`project`.dataset.table)."""
        root: Json = {
            "name": "stack",
            "builtinFunctionOptions": {"languageOptions": language_options},
            "catalog": [
                {
                    "name": "ML",
                    "customFunction": ml_functions(),
                    "customTvf": [ml_predict(predict_output or [])],
                }
            ],
        }
        nested: dict[tuple[str, ...], Json] = {}
        for name, table in self._entries():
            kind = "table" if "column" in table else "model"
            root.setdefault(kind, []).append(table)
            parts = name.split(".")
            if len(parts) > 1:
                self._nested(root, nested, tuple(parts[:-1])).setdefault(kind, []).append(
                    {**table, "name": parts[-1]}
                )
        return root

    def _entries(self) -> Iterator[tuple[str, Json]]:
        for name, columns in self.tables.values():
            yield name, {"name": name, "column": [c.proto() for c in columns]}
        for name, signature in self.models.values():
            yield (
                name,
                {
                    "name": name,
                    "input": [
                        {"name": t.name, "type": t.bigquery_type()} for t in signature.features
                    ],
                    "output": [
                        {"name": t.name, "type": t.bigquery_type()} for t in signature.labels
                    ],
                },
            )

    @staticmethod
    def _nested(root: Json, nested: dict[tuple[str, ...], Json], path: tuple[str, ...]) -> Json:
        parent = root
        for depth in range(1, len(path) + 1):
            prefix = path[:depth]
            if prefix not in nested:
                child: Json = {"name": prefix[-1]}
                parent.setdefault("catalog", []).append(child)
                nested[prefix] = child
            parent = nested[prefix]
        return parent


def columns_of(resolved: Mapping[str, Any]) -> list[Column]:
    """A CREATE TABLE's (or CTAS's) column definitions, from its resolved statement."""
    for node in walk(resolved):
        definitions = node.get("columnDefinitionList")
        if isinstance(definitions, list):
            return [Column(d["name"], d["type"]) for d in definitions]
    return []


def name_path(resolved: Mapping[str, Any]) -> str | None:
    for node in walk(resolved):
        path = node.get("namePath")
        if isinstance(path, list):
            return ".".join(path)
    return None


def walk(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)
