"""Settings' "Download CIFAR-10" against a local server serving CIFAR-10's archive layout: the cache
fills, the lab then names CIFAR-10 as its data; offline, one line and nothing changed."""

from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP
from tests.archive_server import closed_port_url
from ui.dataset_download import BATCHES_FOLDER, REMEMBERED_FILE


def open_settings() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/settings.py").run()
    assert not at.exception, at.exception
    return at


def download_button(at: AppTest):
    return next(b for b in at.button if b.label == "Download CIFAR-10")


def test_download_fills_the_cache_and_the_lab_then_trains_on_cifar10(archive_server, progress_db, tmp_path, monkeypatch):
    archive, _ = archive_server
    cache = tmp_path / "cache"
    monkeypatch.setenv("VIVA_CACHE_DIR", str(cache))
    monkeypatch.setenv("CIFAR10_MIRROR_URL", archive.url)
    monkeypatch.setenv("CIFAR10_MIRROR_MD5", archive.md5)
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    at = open_settings()
    assert at.text_input[-1].value == ""  # no CIFAR-10 configured yet
    download_button(at).click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert (cache / "cifar10" / BATCHES_FOLDER / "batches.meta").is_file()
    assert any("CIFAR-10 downloaded to" in s.value for s in at.success), [s.value for s in at.success]
    assert at.text_input[-1].value == str(cache / "cifar10")

    # A fresh session (the next start of the app) finds it too: the lab names CIFAR-10 as its data.
    lab = AppTest.from_file(APP, default_timeout=60).run()
    lab.switch_page("pages/training_lab.py").run()
    assert not lab.exception, lab.exception
    assert lab.radio[0].value == "CIFAR-10 directory"
    assert next(t for t in lab.text_input if t.label == "Directory").value == str(cache / "cifar10")
    assert not any(b.label == "Download CIFAR-10" for b in lab.button)  # configured: nothing more to offer


def test_offline_download_says_so_in_one_line_and_changes_nothing(progress_db, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("VIVA_CACHE_DIR", str(cache))
    monkeypatch.setenv("CIFAR10_MIRROR_URL", closed_port_url())
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    at = open_settings()
    download_button(at).click().run()
    assert not at.exception
    [error] = at.error
    assert "offline?" in error.value and "\n" not in error.value
    assert at.text_input[-1].value == ""
    assert not (cache / "cifar10").exists() and not (cache / REMEMBERED_FILE).exists()
