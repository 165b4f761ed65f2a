"""The house layout, checked (our "hassfest"): namespaces, entry points, mirrors."""

from __future__ import annotations

import tomllib
from importlib import import_module
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_tidings_is_a_namespace_everywhere() -> None:
    for src in PYPROJECT["tool"]["hatch"]["build"]["dev-mode-dirs"]:
        assert not (ROOT / src / "tidings" / "__init__.py").exists()
    for plugins_dir in ROOT.glob("plugins/*/src/tidings/plugins"):
        assert not (plugins_dir / "__init__.py").exists()


def test_every_source_dir_is_packaged_and_typed() -> None:
    dev_dirs = set(PYPROJECT["tool"]["hatch"]["build"]["dev-mode-dirs"])
    sources = set(PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["sources"])
    assert dev_dirs == sources
    for src in dev_dirs:
        for leaf in (ROOT / src / "tidings").glob("**/py.typed"):
            assert (leaf.parent / "__init__.py").exists()
    assert (ROOT / "core/src/tidings/core/py.typed").exists()


def test_entry_points_import_and_live_under_the_namespace() -> None:
    for name, target in PYPROJECT["project"]["entry-points"]["tidings"].items():
        assert target.startswith("tidings."), f"{name} must import under tidings.*"
        import_module(target)


def test_plugin_folders_are_complete() -> None:
    """Every platform plugin folder has the same few files, and tests that mirror it."""
    required = {"__init__.py", "config.py", "mapping.py", "py.typed"}
    entry_targets = set(PYPROJECT["project"]["entry-points"]["tidings"].values())
    for folder in sorted((ROOT / "plugins").glob("*")):
        if not folder.is_dir():
            continue
        package = folder / "src" / "tidings" / "plugins" / folder.name
        files = {p.name for p in package.iterdir()}
        assert required <= files, f"{folder.name} lacks {sorted(required - files)}"
        assert f"tidings.plugins.{folder.name}" in entry_targets
        assert (ROOT / "tests" / "plugins" / folder.name).is_dir()


def test_tests_mirror_core_rooms() -> None:
    core = ROOT / "core/src/tidings/core"
    for room in ("store", "templates", "inbox", "api"):
        assert (core / room).is_dir() and (ROOT / "tests/core" / room).is_dir()
