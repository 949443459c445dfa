"""Pick the device a learner asked for, falling back to what exists."""

from __future__ import annotations

import torch


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA, then Apple's MPS, then CPU; an explicit device that is absent is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device '{name}' was asked for but CUDA is not available here; use --device cpu or auto")
    return device


def has_native_bf16(device: torch.device) -> bool:
    """Whether bfloat16 matmuls and convolutions run in hardware here, not emulated.

    On a CPU that means AVX512-BF16 or AMX (oneDNN uses them): there a bf16 training step of the
    fast recipe takes 0.6x the time of a float32 one (measured on a 2-core AMD EPYC). Without them
    bf16 is converted in software and slower than float32, so "auto" leaves it off."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        cpu = torch.cpu
        return any(getattr(cpu, name, lambda: False)() for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))
    return False


def autocast_dtype(amp: str, device: torch.device | None = None) -> torch.dtype | None:
    """The autocast dtype for an --amp choice: "auto" is bf16 where `device` has it natively."""
    if amp == "auto":
        return torch.bfloat16 if device is not None and has_native_bf16(device) else None
    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp)


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work, so a host clock read after it times real work (CUDA
    runs asynchronously; the CPU has nothing to wait for)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
