"""Guard: every module of the project imports, and the project's packages are the repo's own.

`scrapy.cfg` puts the repo on `sys.path`, which is what makes the top-level `crawler`,
`pipelines` and `spiders` importable; an installed distribution of one of those names would
shadow ours and every other test would quietly test someone else's code.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO

PACKAGES = ("crawler", "pipelines", "spiders")


def _modules() -> list[str]:
    """Dotted names of every .py module under the project's packages, found on disk."""
    names = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES = _modules()


def test_every_package_folder_is_found_with_its_modules() -> None:
    """The walk below is not empty: each package contributes modules of its own."""
    for package in PACKAGES:
        assert package in MODULES
        assert any(name.startswith(f"{package}.") for name in MODULES), package
    assert "spiders.sources" in MODULES and "crawler.middlewares.retry" in MODULES


def shadowed(module: ModuleType) -> str | None:
    """Why `module` is not the repo's own (a namespace package, a file elsewhere), or None."""
    if getattr(module, "__file__", None) is None:
        return f"{module.__name__} is a namespace package, not the repo's package"
    if not Path(str(module.__file__)).resolve().is_relative_to(REPO):
        return (
            f"{module.__name__} is imported from {module.__file__}, outside {REPO}: an "
            "installed distribution of that name shadows the project's"
        )
    return None


@pytest.mark.parametrize("package", PACKAGES)
def test_package_is_the_repos_own(package: str) -> None:
    assert shadowed(importlib.import_module(package)) is None


def test_a_package_from_elsewhere_is_named_as_shadowing(tmp_path: Path) -> None:
    """The guard fires: a `crawler` package outside the repo is caught."""
    (tmp_path / "crawler").mkdir()
    init = tmp_path / "crawler" / "__init__.py"
    init.write_text("")
    spec = importlib.util.spec_from_file_location("crawler", init)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)  # not put into sys.modules
    assert "shadows the project's" in (shadowed(module) or "")
    assert "namespace package" in (shadowed(ModuleType("crawler")) or "")


@pytest.mark.parametrize("name", MODULES)
def test_module_imports_from_the_repo(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve() == (REPO / _path_of(name)).resolve()


def _path_of(name: str) -> Path:
    """Where module `name` lies in the repo."""
    path = REPO.joinpath(*name.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
