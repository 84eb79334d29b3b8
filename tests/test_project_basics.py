"""Project basics a new user looks for (issue 22, item 13): the license the metadata
names is in the tree, a changelog, project URLs, and every supported Python."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_mit_license_of_the_metadata_is_shipped() -> None:
    meta = importlib.metadata.metadata("o2sync")
    assert meta["License"] == "MIT"
    assert "License :: OSI Approved :: MIT License" in meta.get_all("Classifier")
    assert "LICENSE" in (meta.get_all("License-File") or [])
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text


def test_classifiers_cover_every_python_the_suite_runs_on() -> None:
    meta = importlib.metadata.metadata("o2sync")
    low = meta["Requires-Python"].removeprefix(">=")
    assert low == "3.9"
    versions = {c.rsplit(" :: ", 1)[1] for c in meta.get_all("Classifier")
                if c.startswith("Programming Language :: Python :: 3.")}
    assert versions == {"3.9", "3.10", "3.11", "3.12", "3.13"}


def test_project_urls_and_changelog() -> None:
    urls = dict(u.split(", ", 1) for u in importlib.metadata.metadata("o2sync")
                .get_all("Project-URL") or [])
    assert urls and all(u.startswith("https://") for u in urls.values()), urls
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    version = importlib.metadata.version("o2sync")
    assert "## Unreleased" in changelog and f"## {version}" in changelog
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Installing from source" in readme
