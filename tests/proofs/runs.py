"""Each demo run once per test session, as written and with its mistake (several items and tests
share a demo; running it again would only repeat the same seeded result)."""

from functools import cache

from proofs.catalogue import get_demo
from proofs.registry import DemoRun, run


@cache
def demo_run(demo_id: str, broken: bool = False) -> DemoRun:
    return run(get_demo(demo_id), broken=broken)
