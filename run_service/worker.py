"""One local worker process: `python -m run_service.worker FD THREADS PARENT_PID`. It waits for a
run, executes it, and reports over its own socket.

Started as a plain `python -m` process, not by multiprocessing's spawn: spawn re-runs the parent's
`__main__` in the child, and in a Streamlit server `__main__` is whichever page script last ran.
Each worker has its own socket, never a queue shared with other workers, so a worker killed
mid-message (out of memory, SIGKILL) breaks only its own connection, not a lock every worker needs."""

from __future__ import annotations

import os
import sys
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
            if kind == "exit":
                sys.exit(0)  # the server is closing: the run's result has no reader
            cancelled = cancelled or (kind == "cancel" and target == run_id)
        return cancelled

    return run_one(cfg, lambda kind, payload: conn.send((kind, run_id, payload)), should_stop)


if __name__ == "__main__":
    descriptor, threads, parent = (int(arg) for arg in sys.argv[1:4])
    worker_main(Connection(descriptor), threads, parent)
