"""How many runs may train at once, how many may wait, and what each may use."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024


def _gpu_count() -> int:
    # Counted without importing torch: the app server must stay light, and CUDA must not be
    # initialised in a process that later starts workers.
    return len(list(Path("/proc/driver/nvidia/gpus").glob("*"))) if Path("/proc/driver/nvidia/gpus").is_dir() else 0


def _total_memory_mb() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // MIB
    except (ValueError, OSError):
        return 8192


@dataclass(frozen=True)
class RunServiceSettings:
    slots: int  # runs that train at once
    threads_per_run: int  # torch / BLAS threads of each worker
    max_queued: int  # runs that may wait behind the slots; one more is refused with an estimate
    memory_limit_mb: int  # a worker above this resident size is killed and its run fails
    gpus: int  # devices; one slot per device when there are any
    ray_address: str | None  # VIVA_RAY_ADDRESS: "auto", "ray://host:10001", or None for local workers

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> RunServiceSettings:
        env = os.environ if environ is None else environ
        cores, gpus = os.cpu_count() or 1, _gpu_count()
        hosted = env.get("HOSTED", "") == "1"
        if hosted:
            # One core stays with the server: its sessions' pages need it, and a torch thread team
            # that loses a core to them stalls at every barrier (measured here on 2 cores, 15 s
            # budget, one busy process beside it: 2 threads 89 steps / 60.9%, 1 thread 147 / 66.8%).
            # Then one run per two of the remaining cores: two runs sharing cores each get half the
            # steps, and a budgeted run with half the steps ends worse. A GPU run needs one device.
            usable = max(1, cores - 1)
            default_slots = gpus or max(1, usable // 2)
            default_threads = max(1, usable // default_slots)
        else:  # one learner on their own machine: one run with every core
            default_slots, default_threads = 1, cores
        slots = int(env.get("VIVA_RUN_SLOTS", default_slots))
        threads = int(env.get("VIVA_RUN_THREADS", default_threads if "VIVA_RUN_SLOTS" not in env else max(1, cores // slots)))
        # Room for every run plus the server itself, capped so one run cannot take the host.
        memory = int(env.get("VIVA_RUN_MEMORY_MB", min(4096, _total_memory_mb() // (slots + 1))))
        return cls(
            slots=slots,
            threads_per_run=threads,
            max_queued=int(env.get("VIVA_RUN_QUEUE", 16)),
            memory_limit_mb=memory,
            gpus=gpus,
            ray_address=env.get("VIVA_RAY_ADDRESS") or None,
        )
