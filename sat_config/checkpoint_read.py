"""Read a checkpoint's tensor names, shapes and dtypes without loading tensor data or unpickling objects.

safetensors files are read from their JSON header (``safetensors.safe_open``, which checks the header against
the file's size). torch files (``.ckpt``, ``.pt``, ``.pth``: zip archives written by ``torch.save``) are read
with ``torch.load(mmap=True, weights_only=True, map_location="meta")``: the restricted unpickler refuses every
object that is not plain data, and the tensors land on the meta device, so no tensor byte is read. The format is
told from the file's first bytes, not its name.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SAFETENSORS_DTYPES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "F8_E4M3": "float8_e4m3fn",
    "F8_E5M2": "float8_e5m2", "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8",
    "U16": "uint16", "U32": "uint32", "U64": "uint64", "BOOL": "bool",
}
NESTINGS = ("state_dict", "module", "model")
"""Keys under which a torch file keeps its state dict (Lightning and upstream's export, DeepSpeed, others)."""


class CheckpointError(ValueError):
    """The file is not a checkpoint that can be read safely (the message says why)."""


@dataclass(frozen=True)
class TensorInfo:
    shape: tuple[int, ...]
    dtype: str


@dataclass
class CheckpointHeader:
    """What a checkpoint holds: its state dict's tensors (name → shape, dtype), where it found them, and the
    top-level entries beside them (optimizer state, loop counters: never part of the model)."""

    path: str
    format: str  # "safetensors" or "torch"
    tensors: dict[str, TensorInfo]
    nesting: str | None = None
    beside: list[str] = field(default_factory=list)


def read_checkpoint(path: str | Path) -> CheckpointHeader:
    """The header of the checkpoint at ``path``; raises CheckpointError for anything else."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path}: is a directory, not a checkpoint file")
    try:
        with path.open("rb") as stream:
            head = stream.read(9)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if head[:4] == b"PK\x03\x04":
        return _read_torch(path)
    if head[:1] == b"\x80" or head[:2] == b"\x8a\x0a":
        raise CheckpointError(f"{path}: a pickle, or a torch file in the legacy (pre-1.6) format: it cannot be read "
                              "without loading its tensors; save it again with torch.save (zip format) or as "
                              "safetensors")
    if len(head) == 9 and head[8:9] == b"{":
        return _read_safetensors(path, struct.unpack("<Q", head[:8])[0])
    raise CheckpointError(f"{path}: neither a safetensors file nor a torch checkpoint (a zip archive)")


def _read_safetensors(path: Path, header_size: int) -> CheckpointHeader:
    from safetensors import SafetensorError, safe_open

    if header_size > path.stat().st_size - 8:
        raise CheckpointError(f"{path}: corrupt safetensors file: its header claims {header_size:,} bytes, "
                              f"more than the file holds")
    try:
        with safe_open(str(path), framework="pt") as handle:
            tensors = {}
            for name in handle.keys():
                piece = handle.get_slice(name)
                dtype = piece.get_dtype()
                tensors[name] = TensorInfo(tuple(piece.get_shape()), SAFETENSORS_DTYPES.get(dtype, dtype))
    except SafetensorError as exc:
        raise CheckpointError(f"{path}: corrupt safetensors file: {exc}") from None
    return CheckpointHeader(str(path), "safetensors", tensors)


def _read_torch(path: Path) -> CheckpointHeader:
    import pickle

    import torch

    try:
        data = torch.load(path, map_location="meta", mmap=True, weights_only=True)
    except pickle.UnpicklingError as exc:
        refused = next((line.strip() for line in str(exc).splitlines() if "GLOBAL" in line), str(exc).strip())
        raise CheckpointError(f"{path}: holds objects other than tensors and plain data, which sat-config never "
                              f"unpickles ({refused}); export the state dict from a trusted environment") from None
    except (RuntimeError, OSError, EOFError, ValueError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: not a readable torch checkpoint: {first}") from None
    return _state_dict_of(path, data)


def _state_dict_of(path: Path, data: Any) -> CheckpointHeader:
    import torch

    def is_state_dict(value: Any) -> bool:
        return isinstance(value, dict) and any(isinstance(v, torch.Tensor) for v in value.values())

    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: holds a {type(data).__name__}, not a state dict")
    nesting = next((key for key in NESTINGS if is_state_dict(data.get(key))), None)
    if nesting is None and not is_state_dict(data):
        keys = ", ".join(map(str, list(data)[:8])) or "none"
        raise CheckpointError(f"{path}: no state dict found (top-level keys: {keys})")
    state = data[nesting] if nesting else data
    tensors = {str(k): TensorInfo(tuple(v.shape), str(v.dtype).removeprefix("torch."))
               for k, v in state.items() if isinstance(v, torch.Tensor)}
    beside = [str(k) for k in data if k != nesting] if nesting else []
    return CheckpointHeader(str(path), "torch", tensors, nesting, beside)
