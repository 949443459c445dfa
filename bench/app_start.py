"""App: time from `streamlit run` to the first rendered page in headless Chromium, next to a
one-line hello app started the same way; server memory idle and during a training run."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import REPO_ROOT, BenchResult, tree_rss_mb

CHROMIUM = "/usr/bin/chromium"
STREAMLIT = REPO_ROOT / ".venv" / "bin" / "streamlit"


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _start(script: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str, float]:
    port = _port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(STREAMLIT), "run", str(script), "--server.headless", "true", "--server.port", str(port),
         "--browser.gatherUsageStats", "false"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return process, f"http://127.0.0.1:{port}", started


def _time_to_text(browser, url: str, started: float, text: str) -> float:
    page = browser.new_page()
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            page.goto(url, timeout=5000)
            break
        except Exception:
            time.sleep(0.1)
    page.get_by_text(text).first.wait_for(timeout=60_000)
    seconds = time.perf_counter() - started
    page.close()
    return seconds


def _time_to_lab_form(browser, env: dict[str, str]) -> float:
    """A fresh server, its first page, then the first click on "Training lab" until the form's
    Start button shows: what a learner waits for when opening the lab."""
    process, url, started = _start(REPO_ROOT / "app.py", env)
    try:
        _time_to_text(browser, url, started, "Cards studied")
        page = browser.new_page()
        page.goto(url)
        page.get_by_text("Cards studied").first.wait_for(timeout=60_000)
        clicked = time.perf_counter()
        page.get_by_role("link", name="Training lab").click()
        page.get_by_role("button", name="Start training").wait_for(timeout=60_000)
        seconds = time.perf_counter() - clicked
        page.close()
        return seconds
    finally:
        process.terminate()
        process.wait(timeout=20)


def run(quick: bool) -> BenchResult:
    result = BenchResult("app")
    if not Path(CHROMIUM).exists():
        result.add("time to first page", None, "s", f"not measured: {CHROMIUM} not installed")
        return result
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="bench-app-"))
    hello = workdir / "hello.py"
    hello.write_text('import streamlit as st\nst.write("hello")\n')
    env = {**os.environ, "VIVA_PROGRESS_DB": str(workdir / "progress.db")}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        for label, script, text in (("hello app", hello, "hello"), ("this app (Today page)", REPO_ROOT / "app.py", "Cards studied")):
            samples = []
            for _ in range(2 if quick else 5):
                process, url, started = _start(script, env)
                try:
                    samples.append(_time_to_text(browser, url, started, text))
                finally:
                    process.terminate()
                    process.wait(timeout=20)
            result.add(
                f"streamlit run -> first rendered page: {label}",
                min(samples),
                "s",
                f"best of {len(samples)}: {', '.join(f'{s:.2f}' for s in samples)}",
            )
        lab_samples = []
        for _ in range(2 if quick else 3):
            lab_samples.append(_time_to_lab_form(browser, env))
        result.add(
            "first click on Training lab after a server start -> form visible",
            min(lab_samples),
            "s",
            f"best of {len(lab_samples)}: {', '.join(f'{s:.2f}' for s in lab_samples)}; target <= 1 s",
        )
        process, url, started = _start(REPO_ROOT / "app.py", env)
        try:
            page = browser.new_page()
            _time_to_text(browser, url, started, "Cards studied")
            result.add("server memory idle (after the first page)", _rss_mb(process.pid), "MB RSS")
            page.goto(f"{url}/training_lab")
            page.get_by_role("button", name="Start training").click()
            peak = server_peak = 0.0
            for _ in range(40):
                time.sleep(0.5)
                peak, server_peak = max(peak, tree_rss_mb(process.pid)), max(server_peak, _rss_mb(process.pid))
            note = "Training lab defaults: FastNet, 5,000 images; the run trains in a worker process"
            result.add("server memory during a training run (peak over 20 s)", server_peak, "MB RSS", note)
            result.add("server plus its run workers during that run (peak)", peak, "MB RSS", note)
        finally:
            process.terminate()
            process.wait(timeout=20)
        browser.close()
    return result
