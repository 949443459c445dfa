"""GPU-only demos: they run on CUDA when present and otherwise report why they are skipped."""

import time

import torch

from proofs.registry import DemoResult, demo


@demo(
    "pinned-memory-transfer",
    "Pinned memory speeds host-to-device copies",
    "Copies from page-locked (pinned) host memory are faster than from pageable memory.",
    mistake="timing a tensor that was never pinned (pin_memory() returns a copy; the original stays pageable)",
    needs_cuda=True,
)
def pinned_memory(broken: bool = False) -> DemoResult:
    result = DemoResult()
    pageable = torch.randn(64, 3, 224, 224)
    pinned = pageable.clone() if broken else pageable.pin_memory()

    def copy_seconds(source: torch.Tensor) -> float:
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(10):
            source.to("cuda", non_blocking=True)
        torch.cuda.synchronize()
        return time.perf_counter() - start

    copy_seconds(pinned)
    pageable_s, pinned_s = copy_seconds(pageable), copy_seconds(pinned)
    result.check("pinned copies at least 1.2x faster", 1.2 * pinned_s < pageable_s, pageable_seconds=pageable_s, pinned_seconds=pinned_s)
    return result


@demo(
    "amp-speedup",
    "Mixed precision speeds up matmuls on Tensor Cores",
    "A large matmul under autocast(float16) runs faster than in float32 on a Tensor Core GPU.",
    mistake="autocast(enabled=False), so both timings are float32",
    needs_cuda=True,
)
def amp_speedup(broken: bool = False) -> DemoResult:
    result = DemoResult()
    a, b = torch.randn(4096, 4096, device="cuda"), torch.randn(4096, 4096, device="cuda")

    def seconds(use_amp: bool) -> float:
        with torch.autocast("cuda", dtype=torch.float16, enabled=use_amp and not broken):
            a @ b
            torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(10):
                a @ b
            torch.cuda.synchronize()
        return time.perf_counter() - start

    fp32, fp16 = seconds(False), seconds(True)
    result.check("autocast float16 at least 1.5x faster", 1.5 * fp16 < fp32, float32_seconds=fp32, float16_seconds=fp16)
    return result
