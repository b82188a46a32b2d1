"""The VS Code client's `src/protocol.ts` mirrors `zwarm_ls/protocol.py`: the pydantic
models are the one definition, and this keeps the TypeScript copy from drifting (a
renamed field, or a field the client treats as always there that the daemon omits)."""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from zwarm_ls import protocol

PROTOCOL_TS = Path(__file__).resolve().parents[1] / "editor-clients/vscode/src/protocol.ts"
INTERFACE = re.compile(r"export interface (\w+)(?: extends \w+)? \{(.*?)\n\}", re.S)
FIELD = re.compile(r"^\s*(\w+)(\??):", re.M)
UNION = re.compile(r'export type (\w+) = ((?:\s*\|?\s*"[^"]+")+);')


def ts_interfaces() -> dict[str, dict[str, bool]]:
    """Interface name -> {field: optional?} for every interface in protocol.ts."""
    text = PROTOCOL_TS.read_text(encoding="utf-8")
    return {name: {f: bool(q) for f, q in FIELD.findall(body)}
            for name, body in INTERFACE.findall(text)}


def may_be_absent(model: type[BaseModel], name: str) -> bool:
    """Whether `wire()` (which drops nulls) can leave this field out."""
    info = model.model_fields[name]
    nullable = type(None) in typing.get_args(info.annotation) or (
        isinstance(info.annotation, types.UnionType) and type(None) in info.annotation.__args__)
    return nullable or (not info.is_required() and info.default is None)


def wire_fields(model: type[BaseModel]) -> dict[str, bool]:
    """camelCase wire name -> may be absent, computed fields included (always present)."""
    fields = {info.alias or name: may_be_absent(model, name)
              for name, info in model.model_fields.items()}
    fields.update({info.alias or name: False for name, info in model.model_computed_fields.items()})
    return fields


MIRRORED = sorted(name for name in ts_interfaces()
                  if isinstance(getattr(protocol, name, None), type)
                  and issubclass(getattr(protocol, name), BaseModel))


def test_most_client_shapes_are_protocol_models() -> None:
    # OpenTrajectoryArgs is the client's own command argument; everything else mirrors.
    assert set(ts_interfaces()) - set(MIRRORED) <= {"OpenTrajectoryArgs"}
    assert len(MIRRORED) >= 15


@pytest.mark.parametrize("name", MIRRORED)
def test_interface_fields_exist_and_optionality_is_honest(name: str) -> None:
    model = getattr(protocol, name)
    wire = wire_fields(model)
    for field, optional in ts_interfaces()[name].items():
        assert field in wire, f"protocol.ts {name}.{field} is not a field of {name}"
        if not optional:
            assert not wire[field], (f"protocol.ts declares {name}.{field} required, but the "
                                     "daemon leaves it out when it is null: mark it `?`")


@pytest.mark.parametrize(("ts_name", "values"), [
    ("Status", {s.value for s in protocol.Status}),
    ("AdapterName", set(typing.get_args(protocol.AdapterName))),
])
def test_string_unions_match(ts_name: str, values: set[str]) -> None:
    unions = {n: set(re.findall(r'"([^"]+)"', body))
              for n, body in UNION.findall(PROTOCOL_TS.read_text(encoding="utf-8"))}
    assert unions[ts_name] == values
