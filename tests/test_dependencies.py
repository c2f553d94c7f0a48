"""Every third-party import is declared: the code `make run` runs in requirements.in, tests and benchmarks in
requirements.in or requirements-dev.in; the compiled files pin what their `.in` files name, agree with each other,
keep torch at its CPU-installable pin and pull no CUDA package.

Imports are found with `ast` (top-level and inside functions alike: a deferred import is still needed when its code
runs) and mapped to distributions with `importlib.metadata.packages_distributions()`, so this runs in the set-up
venv. Rasa itself runs in .venv-rasa: `rasa_runtime` may import what constraints-rasa.txt pins.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_CODE = ("bot", "actions", "knowledge_base", "common", "rasa_runtime")
DEVELOPMENT_CODE = ("tests", "benchmarks")
RASA_VENV_CODE = "rasa_runtime"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)")


def declared(requirements_file: Path) -> set[str]:
    """Canonical names of the requirements a pip requirements file lists (options and `-c` lines skipped)."""
    names = set()
    for line in requirements_file.read_text(encoding="utf-8").splitlines():
        line = line.split(" #")[0].strip()
        if line and not line.startswith(("#", "-")):
            names.add(canonicalize_name(Requirement(line).name))
    return names


def pins(compiled_file: Path) -> dict[str, str]:
    return {
        canonicalize_name(match.group(1)): match.group(2)
        for line in compiled_file.read_text(encoding="utf-8").splitlines()
        if (match := PIN.match(line))
    }


def local_modules(folders: Iterable[Path]) -> set[str]:
    """Names importable from the repository itself: packages, modules, and helper modules beside tests."""
    names = {path.stem for path in ROOT.glob("*.py")} | {p.parent.name for p in ROOT.glob("*/__init__.py")}
    for folder in folders:
        names.add(folder.name)
        names.update(path.stem for path in folder.rglob("*.py"))
        names.update(path.name for path in folder.rglob("*") if path.is_dir())
    return names


def third_party_imports(folder: Path, local: set[str]) -> dict[str, set[str]]:
    """Top-level names of the third-party modules imported under `folder`, each with the files importing it."""
    found: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.partition(".")[0]
                if top not in sys.stdlib_module_names and top not in local:
                    found.setdefault(top, set()).add(str(path.relative_to(folder.parent)))
    return found


def undeclared(
    folders: Iterable[Path], allowed: set[str], local: set[str], distributions: dict[str, list[str]]
) -> list[str]:
    """`module (distribution) in file` for each import whose distribution is not in `allowed`."""
    problems = []
    for folder in folders:
        for module, files in sorted(third_party_imports(folder, local).items()):
            names = {canonicalize_name(name) for name in distributions.get(module, [])}
            if not names & allowed:
                shown = ", ".join(sorted(names)) or "not installed here"
                problems.append(f"{module} ({shown}) in {', '.join(sorted(files))}")
    return problems


def test_runtime_code_imports_only_runtime_requirements() -> None:
    folders = [ROOT / name for name in RUNTIME_CODE if name != RASA_VENV_CODE]
    local = local_modules([])
    allowed = declared(ROOT / "requirements.in")
    assert undeclared(folders, allowed, local, packages_distributions()) == []


def test_rasa_runtime_imports_runtime_requirements_or_what_the_rasa_venv_pins() -> None:
    allowed = declared(ROOT / "requirements.in") | set(pins(ROOT / "constraints-rasa.txt"))
    distributions = {"rasa": ["rasa"], **packages_distributions()}  # rasa is installed in .venv-rasa only
    assert undeclared([ROOT / RASA_VENV_CODE], allowed, local_modules([]), distributions) == []


def test_tests_and_benchmarks_import_only_declared_requirements() -> None:
    folders = [ROOT / name for name in DEVELOPMENT_CODE]
    allowed = declared(ROOT / "requirements.in") | declared(ROOT / "requirements-dev.in")
    assert undeclared(folders, allowed, local_modules(folders), packages_distributions()) == []


def test_the_check_reports_an_undeclared_import(tmp_path: Path) -> None:
    code = tmp_path / "room"
    code.mkdir()
    (code / "reader.py").write_text("import json\nimport room.other\n\ndef load():\n    import yaml\n")
    distributions = {"yaml": ["PyYAML"]}
    assert undeclared([code], set(), {"room"}, distributions) == ["yaml (pyyaml) in room/reader.py"]
    assert undeclared([code], {"pyyaml"}, {"room"}, distributions) == []


@pytest.mark.parametrize(
    ("source", "compiled"), [("requirements.in", "requirements.txt"), ("requirements-dev.in", "requirements-dev.txt")]
)
def test_the_compiled_files_pin_what_their_sources_name(source: str, compiled: str) -> None:
    pinned = pins(ROOT / compiled)
    assert declared(ROOT / source) - set(pinned) == set()
    assert not [name for name in pinned if name.startswith("nvidia-") or name == "triton"]  # no CUDA build


def test_torch_stays_at_its_cpu_installable_pin_and_dev_pins_agree_with_runtime() -> None:
    runtime, development = pins(ROOT / "requirements.txt"), pins(ROOT / "requirements-dev.txt")
    assert runtime["torch"] == "2.13.0"  # the Makefile installs torch==2.13.0 first: its CPU build satisfies this
    assert {name: version for name, version in development.items() if runtime.get(name, version) != version} == {}
