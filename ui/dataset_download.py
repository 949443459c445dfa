"""Fetch CIFAR-10 into the cache directory with torchvision's own downloader, and remember where.

A learner who runs the app on a laptop has no CIFAR-10 directory, so every lab would train on the
generated set. One click downloads torchvision's archive (its URL and MD5 checksum), extracts it
beside the cache, and only then moves `cifar-10-batches-py` into place: an interrupted or offline
attempt leaves the cache and the remembered directory exactly as they were.

`CIFAR10_MIRROR_URL` and `CIFAR10_MIRROR_MD5` name another copy of the archive (a class mirror
behind a proxy; the tests' local HTTP server). Torch is imported only when a download starts.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cifar_core.data import cache_dir

BATCHES_FOLDER = "cifar-10-batches-py"  # the folder torchvision's archive holds
REMEMBERED_FILE = "cifar10-location.txt"  # in the cache directory: the directory found or downloaded last
CONNECT_TIMEOUT = 10.0  # seconds to wait for the server before calling the machine offline


class DownloadError(Exception):
    """The download could not finish; the message is one line and nothing on disk changed."""


@dataclass(frozen=True)
class Archive:
    url: str
    filename: str
    md5: str | None  # None only for a mirror that publishes none

    @property
    def host(self) -> str:
        return urllib.parse.urlparse(self.url).netloc or self.url


def cifar10_archive() -> Archive:
    """torchvision's CIFAR-10 archive, or the mirror the environment names."""
    from torchvision.datasets import CIFAR10

    mirror = os.environ.get("CIFAR10_MIRROR_URL")
    if mirror:
        return Archive(mirror, CIFAR10.filename, os.environ.get("CIFAR10_MIRROR_MD5") or None)
    return Archive(CIFAR10.url, CIFAR10.filename, CIFAR10.tgz_md5)


def default_target() -> Path:
    return cache_dir() / "cifar10"


def has_batches(directory: Path) -> bool:
    return (directory / BATCHES_FOLDER / "batches.meta").is_file()


# ---------------------------------------------------------------------------------------------
# The remembered directory
# ---------------------------------------------------------------------------------------------


def remembered_dir() -> str:
    """The CIFAR-10 directory remembered from an earlier download, or "" when there is none (or it
    has since been deleted)."""
    try:
        text = (cache_dir() / REMEMBERED_FILE).read_text().strip()
    except OSError:
        return ""
    return text if text and (has_batches(Path(text)) or (Path(text) / "train").is_dir()) else ""


def remember_dir(directory: Path) -> None:
    """Write the location atomically, so a crash never leaves half a path behind."""
    target = cache_dir() / REMEMBERED_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=target.parent, suffix=".tmp", delete=False) as handle:
        handle.write(str(directory) + "\n")
    os.replace(handle.name, target)


# ---------------------------------------------------------------------------------------------
# Downloading
# ---------------------------------------------------------------------------------------------


def archive_size(archive: Archive) -> int | None:
    """Bytes the server says the archive has (for the progress bar), or None if it does not say.

    Also the offline check: a machine without network fails here in one short timeout, before
    torchvision's downloader starts (which would retry over plain http)."""
    request = urllib.request.Request(archive.url, method="HEAD", headers={"User-Agent": "pytorch/vision"})
    try:
        with urllib.request.urlopen(request, timeout=CONNECT_TIMEOUT) as response:
            length = response.headers.get("Content-Length")
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DownloadError(f"could not reach {archive.host} to download CIFAR-10 (offline?): {reason}") from None
    return int(length) if length and length.isdigit() else None


def download_cifar10(
    target: Path | None = None,
    archive: Archive | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
    poll_seconds: float = 0.2,
) -> Path:
    """Download and extract CIFAR-10 into `target` (default: the cache's `cifar10`), remember it,
    and return it. Already there: returns at once. `on_progress(bytes_done, bytes_total)` is
    called from this thread while torchvision's downloader writes the archive in another."""
    target = Path(target or default_target())
    if has_batches(target):
        remember_dir(target)
        return target
    archive = archive or cifar10_archive()
    total = archive_size(archive)
    staging = Path(tempfile.mkdtemp(prefix="cifar10-download-", dir=_make_parent(target)))
    try:
        _download_with_progress(archive, staging, total, on_progress, poll_seconds)
        if not has_batches(staging):
            raise DownloadError(f"{archive.url}: the archive holds no {BATCHES_FOLDER}/batches.meta; is it CIFAR-10's python archive?")
        target.mkdir(parents=True, exist_ok=True)
        os.replace(staging / BATCHES_FOLDER, target / BATCHES_FOLDER)  # one rename: the folder appears whole
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # the archive too: the extracted batches are what is read
    remember_dir(target)
    return target


def _make_parent(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.parent


def _download_with_progress(
    archive: Archive, staging: Path, total: int | None, on_progress: Callable[[int, int | None], None] | None, poll_seconds: float
) -> None:
    """torchvision's download_and_extract_archive in a thread; this thread reports the growing file."""
    from torchvision.datasets.utils import download_and_extract_archive

    failure: list[BaseException] = []

    def fetch() -> None:
        try:
            download_and_extract_archive(archive.url, str(staging), filename=archive.filename, md5=archive.md5)
        except BaseException as error:  # handed to the caller's thread below
            failure.append(error)

    worker = threading.Thread(target=fetch, name="cifar10-download", daemon=True)
    worker.start()
    partial = staging / archive.filename
    while worker.is_alive():
        worker.join(poll_seconds)
        if on_progress is not None:
            on_progress(partial.stat().st_size if partial.exists() else 0, total)
    if failure:
        raise _as_download_error(failure[0], archive) from None
    if on_progress is not None:
        on_progress(total or 0, total)


def _as_download_error(error: BaseException, archive: Archive) -> DownloadError:
    if isinstance(error, OSError):  # urllib.error.URLError among them
        return DownloadError(f"could not download CIFAR-10 from {archive.host} (offline?): {getattr(error, 'reason', error)}")
    if isinstance(error, RuntimeError):  # torchvision's "File not found or corrupted.": the MD5 did not match
        return DownloadError(f"{archive.url}: the download did not match its MD5 checksum ({archive.md5}); nothing was kept")
    return DownloadError(f"could not download CIFAR-10 from {archive.host}: {error}")


def wait_message(done: int, total: int | None, started: float) -> str:
    """'12.0 of 170.5 MB, 3.1 MB/s': the line beside the progress bar."""
    rate = done / max(time.monotonic() - started, 1e-9) / 1e6
    of_total = f" of {total / 1e6:.1f}" if total else ""
    return f"{done / 1e6:.1f}{of_total} MB, {rate:.1f} MB/s"
