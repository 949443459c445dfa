"""GPU-only demos: they run on CUDA when present and otherwise report why they are skipped."""

import time

import torch

from proofs.registry import DemoResult, demo


@demo(
    "pinned-memory-transfer",
    "Pinned memory: faster copies, and non_blocking copies that really are asynchronous",
    "Copies from page-locked (pinned) host memory, what DataLoader(pin_memory=True) returns, are faster than from "
    "pageable memory; and only from pinned memory does .to('cuda', non_blocking=True) return before the copy has "
    "finished, leaving the CPU free to prepare the next batch while the copy runs.",
    mistake="timing a tensor that was never pinned (pin_memory() returns a copy; the original stays pageable)",
    needs_cuda=True,
)
def pinned_memory(broken: bool = False) -> DemoResult:
    result = DemoResult()
    pageable = torch.randn(64, 3, 224, 224)  # 38.5 MB, a large batch of images
    pinned = pageable.clone() if broken else pageable.pin_memory()

    def copy_seconds(source: torch.Tensor) -> float:
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(10):
            source.to("cuda", non_blocking=True)
        torch.cuda.synchronize()
        return time.perf_counter() - start

    def returns_after(source: torch.Tensor) -> tuple[float, float]:
        """(seconds until .to(non_blocking=True) returns, seconds until the copy has finished)."""
        torch.cuda.synchronize()
        start = time.perf_counter()
        source.to("cuda", non_blocking=True)
        returned = time.perf_counter() - start
        torch.cuda.synchronize()
        return returned, time.perf_counter() - start

    copy_seconds(pinned)  # warm-up: CUDA context, allocator
    pageable_s, pinned_s = copy_seconds(pageable), copy_seconds(pinned)
    result.check(
        "pinned copies at least 1.2x faster",
        1.2 * pinned_s < pageable_s,
        pageable_seconds=pageable_s,
        pinned_seconds=pinned_s,
    )
    returned, finished = min(returns_after(pinned) for _ in range(3))
    result.check(
        "non_blocking from pinned memory returns in under a tenth of the copy's time",
        returned < finished / 10,
        returned_s=returned,
        copy_finished_s=finished,
    )
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
