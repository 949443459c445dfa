"""A small archive with the layout of torchvision's cifar-10-python.tar.gz, served by a local HTTP
server: the download tests never touch the internet."""

import contextlib
import hashlib
import http.server
import io
import pickle
import socket
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest

from ui.dataset_download import BATCHES_FOLDER, Archive

IMAGES_PER_BATCH = 20


def _batch(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(IMAGES_PER_BATCH, 3072), dtype=np.uint8)
    return pickle.dumps({"batch_label": f"batch {seed}", "labels": list(range(10)) * 2, "data": data, "filenames": []})


def make_small_archive(path: Path) -> str:
    """cifar-10-python.tar.gz's layout with 20 images per batch; returns its MD5."""
    members = {f"data_batch_{i}": _batch(i) for i in range(1, 6)}
    members["test_batch"] = _batch(0)
    members["batches.meta"] = pickle.dumps(
        {"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]}
    )
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(f"{BATCHES_FOLDER}/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def archive_server(tmp_path):
    """A local HTTP server with cifar-10-python.tar.gz; yields (Archive, archive path)."""
    served = tmp_path / "served"
    served.mkdir()
    md5 = make_small_archive(served / "cifar-10-python.tar.gz")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, *args):
            pass

        def handle(self):
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # torchvision follows redirects with a GET it closes unread
                super().handle()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/cifar-10-python.tar.gz"
    yield Archive(url, "cifar-10-python.tar.gz", md5), served / "cifar-10-python.tar.gz"
    server.shutdown()
    server.server_close()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/cifar-10-python.tar.gz"  # nothing listens there now
