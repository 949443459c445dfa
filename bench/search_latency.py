"""Search latency over the bank and over a generated 10,000-item bank."""

from __future__ import annotations

import time
from dataclasses import replace

from bench.common import BenchResult, percentiles
from qa_bank.loader import load_bank
from study.search import SearchIndex

QUERIES = [
    "BN train vs eval", "gradiant clipping", "LR finder", "why is my loss nan", "GAP vs flatten", "mixup", "resume checkpoint",
    "one cycle", "pin_memory", "stratified split", "label smothing", "two 3x3 convs", "Adam memory", "Grad-CAM", "He init relu",
]  # fmt: skip


def _latencies(index: SearchIndex, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        for query in QUERIES:
            start = time.perf_counter()
            index.search(query, top_k=10)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def run(quick: bool) -> BenchResult:
    result = BenchResult("search")
    bank = load_bank()
    index = SearchIndex.from_bank(bank)
    p50, p95, _ = percentiles(_latencies(index, 5 if quick else 20))
    result.add("search p50, bank (218 items)", p50, "ms")
    result.add("search p95, bank (218 items)", p95, "ms", "target < 20 ms")
    # 10,000 items: the bank repeated with distinct ids and a number appended to each question.
    big = [replace(item, id=f"{item.id}-{n}", question=f"{item.question} (variant {n})") for n in range(46) for item in bank.items][:10_000]
    start = time.perf_counter()
    big_index = SearchIndex(big, {t.id: t.name for t in bank.topics.values()})
    result.add("index build, 10,000 items", time.perf_counter() - start, "s")
    p50, p95, _ = percentiles(_latencies(big_index, 2 if quick else 5))
    result.add("search p50, 10,000 items", p50, "ms")
    result.add("search p95, 10,000 items", p95, "ms", "target < 100 ms")
    return result
