"""The main loop of one local worker process: wait for a run, execute it, report over the pipe.

Each worker talks to the server over its own pipe, never a queue shared with other workers: a
worker killed mid-message (out of memory, SIGKILL) then breaks only its own pipe, not a lock that
every other worker needs."""

from __future__ import annotations

import os
from multiprocessing.connection import Connection

PARENT_CHECK_SECONDS = 1.0  # how often an idle worker checks that the server still exists


def worker_main(conn: Connection, threads: int, parent_pid: int) -> None:
    from run_service.execution import limit_threads

    limit_threads(threads)  # before torch loads
    conn.send(("ready", None, os.getpid()))
    while True:
        if not conn.poll(PARENT_CHECK_SECONDS):
            if os.getppid() != parent_pid:
                return  # the server died; nobody will read our results
            continue
        message = conn.recv()
        if message[0] == "exit":
            return
        if message[0] != "run":
            continue  # a cancel that arrived after its run ended
        _, run_id, cfg = message
        outcome = _execute(conn, run_id, cfg)
        conn.send(("done", run_id, outcome))


def _execute(conn: Connection, run_id: str, cfg):
    from run_service.execution import run_one

    cancelled = False

    def should_stop() -> bool:
        # Polled before every step: a cancel waits at most one step.
        nonlocal cancelled
        while conn.poll():
            kind, target, _ = conn.recv()
            cancelled = cancelled or (kind == "cancel" and target == run_id)
        return cancelled

    return run_one(cfg, lambda kind, payload: conn.send((kind, run_id, payload)), should_stop)
