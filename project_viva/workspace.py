"""Where a learner's uploaded project and its analysis are kept: a folder of their own (named by a
hash of their profile, so one learner's path never names another's), replaced by the next upload
and deleted on request with the cards generated from it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

ANALYSIS_FILE = "analysis.json"


def projects_root() -> Path:
    """VIVA_PROJECTS_DIR, else `projects` under the app's cache directory."""
    given = os.environ.get("VIVA_PROJECTS_DIR")
    if given:
        return Path(given)
    return Path(os.environ.get("VIVA_CACHE_DIR", Path.home() / ".cache" / "viva-drill")) / "projects"


def workspace(profile: str) -> Path:
    return projects_root() / hashlib.sha256(profile.encode()).hexdigest()[:24]


def save_upload(profile: str, name: str, data: bytes) -> Path:
    """Keep the upload (only its base name, never a path it claims), replacing the previous one."""
    folder = workspace(profile)
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "upload").mkdir(parents=True)
    path = folder / "upload" / (Path(name.replace("\\", "/")).name or "project")
    path.write_bytes(data)
    return path


def save_analysis(profile: str, result: dict[str, Any]) -> None:
    folder = workspace(profile)
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f"{ANALYSIS_FILE}.tmp"
    temporary.write_text(json.dumps(result, default=str), encoding="utf-8")
    os.replace(temporary, folder / ANALYSIS_FILE)  # a reader never sees half a file


def load_analysis(profile: str) -> dict[str, Any] | None:
    path = workspace(profile) / ANALYSIS_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def delete_workspace(profile: str) -> bool:
    folder = workspace(profile)
    existed = folder.exists()
    shutil.rmtree(folder, ignore_errors=True)
    return existed
