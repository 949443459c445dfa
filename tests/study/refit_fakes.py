"""Stand-ins for refit processes (study.refits): the test decides when each one ends and how."""

import threading


class Gate:
    """A refit process the test ends: communicate() blocks until finish()."""

    def __init__(self, returncode: int = 0, stderr: bytes = b"") -> None:
        self._done = threading.Event()
        self._outcome = (returncode, stderr)
        self.returncode: int | None = None

    def finish(self) -> None:
        self._done.set()

    def communicate(self):
        self._done.wait(timeout=60)
        self.returncode = self._outcome[0]
        return None, self._outcome[1]


class Launcher:
    """Starts Gates (the next one `outcome` says) and notes how many were running at each start."""

    def __init__(self, returncode: int = 0, stderr: bytes = b"") -> None:
        self.started: dict[str, Gate] = {}
        self.targets: list[str] = []
        self.live_at_start: list[int] = []
        self._outcome = (returncode, stderr)

    def __call__(self, target: str, profile: str) -> Gate:
        self.live_at_start.append(sum(g.returncode is None for g in self.started.values()))
        self.targets.append(target)
        self.started[profile] = Gate(*self._outcome)
        return self.started[profile]
