"""Hostile snippets inside bubblewrap: what the outer layer adds to the process group and
limits. Each states its expected outcome; after each, no process of the snippet remains and a
progress store outside is unchanged."""

import hashlib
import os
import socket
import threading
import uuid
from pathlib import Path

import pytest

from sandbox.bwrap import bwrap_usable
from sandbox.snippets import run_snippet
from tests.processes import processes_with

pytestmark = pytest.mark.skipif(not bwrap_usable(), reason="bubblewrap is not usable here (apt-get install bubblewrap)")


@pytest.fixture
def progress_store(tmp_path):
    store = tmp_path / "progress.db"
    store.write_bytes(b"SQLite format 3\x00 a learner's reviews")
    yield store
    assert hashlib.sha256(store.read_bytes()).hexdigest() == hashlib.sha256(b"SQLite format 3\x00 a learner's reviews").hexdigest()


def test_setsid_and_a_double_fork_do_not_escape(progress_store):
    marker = f"{41 + uuid.uuid4().int % 1000 / 1000:.3f}"
    code = (
        "import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        f"        os.execvp('sleep', ['sleep', '{marker}'])\n    os._exit(0)\nprint('left')\n"
    )
    result = run_snippet(code, timeout_s=20)
    assert result.ok and "left" in result.stdout
    assert processes_with(f"sleep {marker}") == []  # the PID namespace died with its main process


def test_the_progress_store_and_system_secrets_are_not_there(progress_store):
    code = f"import os\nfor path in ({str(progress_store)!r}, '/etc/shadow', {str(Path.cwd() / 'qa_bank')!r}):\n    print(path, os.path.exists(path))\n"
    result = run_snippet(code, timeout_s=20)
    assert result.ok and result.stdout.count(" False") == 3, result.stdout


def test_writes_outside_the_working_directory_fail(progress_store):
    targets = [str(Path.cwd() / "cifar_core" / "planted.py"), "/usr/planted", str(progress_store)]
    code = (
        f"for path in {targets!r}:\n    try:\n        open(path, 'w').write('x')\n        print('wrote', path)\n"
        "    except OSError as error:\n        print('refused', type(error).__name__)\nopen('mine.txt', 'w').write('ok')\nprint('own dir ok')\n"
    )
    result = run_snippet(code, timeout_s=20)
    assert result.ok and result.stdout.count("refused") == 3 and "own dir ok" in result.stdout, result.stdout
    assert not (Path.cwd() / "cifar_core" / "planted.py").exists()


def test_no_network_even_to_a_port_on_this_machine(progress_store):
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    code = (
        f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n    print('connected')\n"
        "except OSError as error:\n    print('refused', type(error).__name__)\n"
    )
    result = run_snippet(code, timeout_s=20)
    server.close()
    assert result.ok and result.stdout.startswith("refused") and not accepted


def test_the_parent_cannot_be_killed(progress_store):
    code = f"import os, signal\ntry:\n    os.kill({os.getpid()}, signal.SIGKILL)\n    print('sent')\nexcept ProcessLookupError:\n    print('no such process')\nprint(os.getppid())\n"
    result = run_snippet(code, timeout_s=20)
    assert result.ok and result.stdout.startswith("no such process")  # and this test process is still running


def test_allocating_past_the_limit_and_printing_100_mb_still_work_inside(progress_store):
    assert run_snippet("x = bytearray(8 << 30)\n", timeout_s=30, memory_mb=1024).reason == "memory"
    printed = run_snippet("import sys\nfor _ in range(100):\n    sys.stdout.write('x' * 1_000_000)\n", timeout_s=60)
    assert printed.ok and len(printed.stdout) <= 20_000


def test_a_native_crash_inside_is_reported_with_its_signal(progress_store):
    result = run_snippet("import ctypes\nctypes.string_at(0)\n", timeout_s=30)
    assert not result.ok and "stopped by SIGSEGV: a native crash" in result.stderr
