"""What a check observes, as plain data that crosses a pipe: the learner's process sends it,
the judging process decodes it. Decoding builds values only (numbers, strings, tensors,
arrays, and the two small records below), never objects of a type the sender names, so the
learner's process can send wrong observations but cannot make the judge run anything.

Both sides go through the same encoding (the reference's observations too), so a comparison
never sees a difference the transport made."""

from __future__ import annotations

import base64
import json
import math
import traceback
from dataclasses import dataclass
from typing import Any

LEARNER_FILE = "<your code>"  # the filename the learner's source is compiled under
MAX_ELEMENTS = 4_000_000  # per tensor or array: more is not an answer to any exercise
MAX_DEPTH = 12


@dataclass(frozen=True)
class Raised:
    """The learner's code raised (or a probe found its result unusable: kind "result")."""

    type: str
    message: str
    lines: tuple[str, ...] = ()  # "line 3, in f: code", the learner's own frames only
    kind: str = "raised"  # "raised": an exception; "result": WrongResult from a probe

    @property
    def summary(self) -> str:
        return "\n".join([*self.lines, f"{self.type}: {self.message}" if self.message else self.type])

    @property
    def last_line(self) -> int | None:
        """The learner's line the exception came from (for the editor's marker)."""
        for line in reversed(self.lines):
            number = line.removeprefix("line ").split(",", 1)[0]
            if number.isdigit():
                return int(number)
        return None


@dataclass(frozen=True)
class Opaque:
    """A value of a type the checks do not compare (a module, a generator...): its type name."""

    type: str
    text: str


class WrongResult(Exception):
    """Raised by a probe when the learner's result cannot be used as the check needs (None
    where a tensor is needed...): becomes a failed check with this message, not a crash."""


class TooLarge(ValueError):
    pass


def learner_frames(error: BaseException) -> tuple[str, ...]:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == LEARNER_FILE]
    return tuple(f"line {f.lineno}, in {f.name}: {(f.line or '').strip()}" for f in frames)


def raised(error: BaseException) -> Raised:
    if isinstance(error, WrongResult):
        return Raised("WrongResult", str(error), (), "result")
    message = str(error)
    message = message if len(message) <= 300 else message[:297] + "..."
    return Raised(type(error).__name__, message, learner_frames(error))


def capture(run, *args: Any) -> Any:
    """run(*args), or what it raised: SystemExit and KeyboardInterrupt included, so a learner's
    sys.exit() is a verdict on this check and not the end of the process."""
    try:
        return run(*args)
    except BaseException as error:  # noqa: BLE001 - every learner exception is an observation
        return raised(error)


# ---------------------------------------------------------------- encoding


def encode(value: Any, depth: int = 0) -> Any:
    """A JSON-ready form of `value`. Tensors and arrays keep dtype, shape and every element."""
    import numpy as np
    import torch

    if depth > MAX_DEPTH:
        raise TooLarge("nested too deeply")
    if value is None or isinstance(value, bool | int | str):
        return value if not isinstance(value, int) or abs(value) < 2**63 else float(value)
    if isinstance(value, float):
        return value
    if isinstance(value, Raised):
        return {"__t": "raised", "type": value.type, "message": value.message, "lines": list(value.lines), "kind": value.kind}
    if isinstance(value, torch.Tensor):
        return _encode_tensor(value)
    if isinstance(value, np.ndarray):
        if value.size > MAX_ELEMENTS:
            raise TooLarge(f"an array of {value.size:,} elements")
        if value.dtype.kind not in "biuf":
            return {"__t": "opaque", "type": f"numpy array of {value.dtype}", "text": ""}
        return {"__t": "ndarray", "dtype": str(value.dtype), "shape": list(value.shape), "data": _bytes(value)}
    if isinstance(value, np.generic):
        if value.dtype.kind not in "biuf":
            return {"__t": "opaque", "type": type(value).__name__, "text": repr(value)[:80]}
        return {"__t": "npscalar", "dtype": str(value.dtype), "value": value.item()}
    if isinstance(value, tuple | list):
        items = [encode(v, depth + 1) for v in value]
        return items if isinstance(value, list) else {"__t": "tuple", "items": items}
    if isinstance(value, dict):
        return {"__t": "dict", "items": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, Opaque):
        return {"__t": "opaque", "type": value.type, "text": value.text}
    return {"__t": "opaque", "type": type(value).__name__, "text": _short_repr(value)}


def _encode_tensor(value) -> dict:
    import torch

    if value.numel() > MAX_ELEMENTS:
        raise TooLarge(f"a tensor of {value.numel():,} elements")
    plain = value.detach().cpu()
    if plain.is_complex() or plain.dtype in (torch.float8_e4m3fn, torch.float8_e5m2):
        return {"__t": "opaque", "type": f"tensor of {plain.dtype}", "text": ""}
    dtype = str(plain.dtype).removeprefix("torch.")
    carried = plain.float() if plain.dtype == torch.bfloat16 else plain  # NumPy has no bfloat16: it travels as float32
    data = _bytes(carried.numpy())
    return {"__t": "tensor", "dtype": dtype, "shape": list(plain.shape), "data": data, "carried": str(carried.dtype).removeprefix("torch."),
            "requires_grad": bool(value.requires_grad), "device": str(value.device)}  # fmt: skip


def _bytes(array) -> str:
    """An array's elements, little-endian, in base64: exact and fast, unlike a list of numbers."""
    import numpy as np

    return base64.b64encode(np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()).decode()


def _array(data: Any, dtype: str, shape: tuple[int, ...]):
    import numpy as np

    kind = np.dtype(_numeric(dtype)).newbyteorder("<")
    raw = base64.b64decode(str(data), validate=True)
    if len(raw) != kind.itemsize * math.prod(shape):
        raise ValueError("an array's data does not fill its shape")
    return np.frombuffer(raw, dtype=kind).astype(kind.newbyteorder("="), copy=True).reshape(shape)


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a learner's __repr__ may raise
        return ""
    return text if len(text) <= 80 else text[:77] + "..."


def dumps(value: Any) -> bytes:
    return json.dumps(encode(value), allow_nan=True).encode()


# ---------------------------------------------------------------- decoding (the judge's side)


def loads(data: bytes) -> Any:
    return decode(json.loads(data))


def decode(value: Any, depth: int = 0) -> Any:
    if depth > MAX_DEPTH + 2:
        raise ValueError("nested too deeply")
    if isinstance(value, list):
        return [decode(v, depth + 1) for v in value]
    if not isinstance(value, dict):
        return value
    tag = value.get("__t")
    if tag == "tuple":
        return tuple(decode(v, depth + 1) for v in value["items"])
    if tag == "dict":
        return {_hashable(decode(k, depth + 1)): decode(v, depth + 1) for k, v in value["items"]}
    if tag == "tensor":
        return _decode_tensor(value)
    if tag == "ndarray":
        import numpy as np

        return _array(value["data"], value["dtype"], _shape(value["shape"]))
    if tag == "npscalar":
        import numpy as np

        return np.dtype(_numeric(value["dtype"])).type(value["value"])
    if tag == "raised":
        return Raised(str(value["type"]), str(value["message"]), tuple(str(x) for x in value["lines"]), str(value["kind"]))
    if tag == "opaque":
        return Opaque(str(value["type"]), str(value["text"]))
    raise ValueError(f"unknown observation {tag!r}")


def _decode_tensor(value: dict):
    import torch

    dtype = getattr(torch, _numeric(value["dtype"]), None)
    if not isinstance(dtype, torch.dtype):
        raise ValueError(f"unknown dtype {value['dtype']!r}")
    carried = _numeric(value.get("carried", value["dtype"]))
    tensor = torch.from_numpy(_array(value["data"], "bool" if carried == "bool" else carried, _shape(value["shape"]))).to(dtype)
    if value.get("requires_grad") and tensor.is_floating_point():
        tensor.requires_grad_(True)  # how the learner's tensor was: kept for checks that ask
    return tensor


def _numeric(name: Any) -> str:
    name = str(name)
    if not name.replace("_", "").isalnum():
        raise ValueError(f"bad dtype {name!r}")
    return name


def _shape(shape: Any) -> tuple[int, ...]:
    if not isinstance(shape, list) or not all(isinstance(n, int) and 0 <= n <= MAX_ELEMENTS for n in shape):
        raise ValueError("bad shape")
    return tuple(shape)


def _hashable(key: Any) -> Any:
    return key if isinstance(key, str | int | float | bool | tuple) or key is None else repr(key)
