"""Download CIFAR-10 through torchvision's downloader, from a local HTTP server serving a small
archive with the real layout (never the internet); offline, one line and nothing changed."""

import pickle

import pytest

from tests.archive_server import IMAGES_PER_BATCH, closed_port_url
from ui.dataset_download import (
    BATCHES_FOLDER,
    REMEMBERED_FILE,
    Archive,
    DownloadError,
    download_cifar10,
    has_batches,
    remembered_dir,
)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VIVA_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_download_fills_the_cache_reports_progress_and_is_remembered(archive_server, cache):
    archive, served = archive_server
    progress: list[tuple[int, int | None]] = []
    target = download_cifar10(archive=archive, on_progress=lambda done, total: progress.append((done, total)), poll_seconds=0.01)
    assert target == cache / "cifar10" and has_batches(target)
    assert sorted(p.name for p in (target / BATCHES_FOLDER).iterdir()) == sorted(
        ["batches.meta", "test_batch"] + [f"data_batch_{i}" for i in range(1, 6)]
    )
    assert progress[-1] == (served.stat().st_size, served.stat().st_size)  # the server's Content-Length is the total
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    assert remembered_dir() == str(target)
    assert sorted(p.name for p in cache.iterdir()) == ["cifar10", REMEMBERED_FILE]  # no staging folder or archive left


def test_the_extracted_batches_hold_the_archives_images(archive_server, cache):
    archive, _ = archive_server
    target = download_cifar10(archive=archive)
    with open(target / BATCHES_FOLDER / "data_batch_3", "rb") as handle:
        assert pickle.load(handle)["data"].shape == (IMAGES_PER_BATCH, 3072)


def test_a_second_download_finds_the_batches_and_fetches_nothing(archive_server, cache):
    archive, _ = archive_server
    download_cifar10(archive=archive)
    offline = Archive(closed_port_url(), archive.filename, archive.md5)
    assert download_cifar10(archive=offline) == cache / "cifar10"  # it would fail if it tried the network


def test_offline_is_one_line_and_changes_nothing(cache):
    with pytest.raises(DownloadError) as raised:
        download_cifar10(archive=Archive(closed_port_url(), "cifar-10-python.tar.gz", "0" * 32))
    message = str(raised.value)
    assert "\n" not in message and "offline?" in message and "127.0.0.1" in message
    assert not cache.exists() or not any(cache.iterdir())
    assert remembered_dir() == ""


def test_a_checksum_mismatch_keeps_nothing(archive_server, cache):
    archive, _ = archive_server
    with pytest.raises(DownloadError, match="MD5"):
        download_cifar10(archive=Archive(archive.url, archive.filename, "0" * 32))
    assert [p.name for p in cache.iterdir()] == [] and remembered_dir() == ""


def test_a_remembered_directory_that_was_deleted_is_forgotten(archive_server, cache):
    import shutil

    archive, _ = archive_server
    target = download_cifar10(archive=archive)
    shutil.rmtree(target)
    assert remembered_dir() == ""
