"""Checkpoints written atomically and loaded without running pickled code."""

from __future__ import annotations

import os
import pickle
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch


class CheckpointError(Exception):
    """A checkpoint file cannot be used; the message is one line naming the file."""


def atomic_torch_save(state: dict[str, Any], path: Path) -> None:
    """Write to a temporary file in the same directory, fsync, then os.replace.

    A crash at any point leaves either the old file or the new one, never a torn file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            torch.save(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _unsafe_global(message: str) -> str:
    # torch's message is many lines with terminal colour codes; keep the one global it names.
    match = re.search(r"(?:Unsupported global: GLOBAL|unsupported GLOBAL) ([\w.]+)", message)
    return f"a pickled reference to {match.group(1)}" if match else "pickled objects"


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load with weights_only=True: tensors and plain containers only, so a crafted pickle is refused."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        raise CheckpointError(f"{path}: refused to load: it holds {_unsafe_global(str(error))}, not only tensors and plain data") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"{path}: not a readable PyTorch checkpoint (truncated or foreign file): {reason}") from None
    if not isinstance(state, dict) or "state_dict" not in state:
        raise CheckpointError(f"{path}: not a checkpoint of this project (no 'state_dict' entry)")
    return state
