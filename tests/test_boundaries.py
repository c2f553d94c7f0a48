"""The layout's house rules, checked on the code rather than by reading it.

- `actions/`, `knowledge_base/` and `common/` import nothing from the gateway (`bot/`); `common/` and
  `knowledge_base/` nothing from the action server: both processes can be deployed and replaced apart.
- No import cycles between project modules, counting imports inside functions (they only hide a loop).
- A blueprint module imports no other blueprint module: shared helpers live in the module that owns them.
- Every blueprint and every CLI command is registered in `bot.create_app`, nowhere else.
- Importing the action server loads neither Flask nor SQLAlchemy nor Alembic.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "actions", "knowledge_base", "common", "rasa_runtime")


@cache
def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _tree(module: str) -> ast.Module:
    return ast.parse(project_modules()[module].read_text(), filename=str(project_modules()[module]))


@cache
def imports_of(module: str) -> frozenset[str]:
    """The project modules `module` imports, at the top or inside a function (`from pkg import mod` → pkg.mod)."""
    modules = project_modules()
    package = module if project_modules()[module].name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(_tree(module)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return frozenset(name for name in found if name in modules and name != module)


def blueprint_names(module: str) -> list[str]:
    """The names of the `Blueprint(...)`s a module creates at its top level."""
    names = []
    for node in _tree(module).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Name) and func.id == "Blueprint":
                names.append(ast.literal_eval(node.value.args[0]))
    return names


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("actions", ("bot",)), ("knowledge_base", ("bot", "actions")), ("common", ("bot", "actions"))],
)
def test_a_package_imports_nothing_from_the_processes_it_must_not_depend_on(
    package: str, forbidden: tuple[str, ...]
) -> None:
    crossing = {
        (module, target)
        for module in project_modules()
        if in_package(module, package)
        for target in imports_of(module)
        if any(in_package(target, other) for other in forbidden)
    }
    assert crossing == set()


def test_no_import_cycles_between_project_modules() -> None:
    graph = {module: imports_of(module) for module in project_modules()}
    # Tarjan's strongly connected components: any component with more than one module is a cycle
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(component)

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in graph:
        if module not in index:
            visit(module)
    assert cycles == []


def test_a_blueprint_module_imports_no_other_blueprint_module() -> None:
    blueprint_modules = {module for module in project_modules() if blueprint_names(module)}
    assert len(blueprint_modules) >= 10  # the check looks at real blueprints, not at nothing
    crossing = {(module, target) for module in blueprint_modules for target in imports_of(module) & blueprint_modules}
    assert crossing == set()


def test_every_blueprint_and_cli_command_is_registered_by_create_app(tmp_path: Path) -> None:
    from bot import create_app
    from tests.support.databases import migrate

    migrate(url := f"sqlite:///{tmp_path / 'gateway.db'}")
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "x"})
    defined = {name for module in project_modules() if in_package(module, "bot") for name in blueprint_names(module)}
    assert defined == set(app.blueprints)

    commands = {
        ast.literal_eval(node.args[0])
        for module in project_modules()
        if in_package(module, "bot")
        for node in ast.walk(_tree(module))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("command", "group")  # a group (`db`) is a command with subcommands
        and getattr(node.func.value, "id", None) == "click"
    }
    assert {"create-agent", "purge", "db"} <= commands == set(app.cli.commands)

    registering = {
        module
        for module in project_modules()
        for node in ast.walk(_tree(module))
        if isinstance(node, ast.Attribute) and node.attr in ("register_blueprint", "add_command")
    }
    assert registering <= {"bot"}


def test_importing_the_action_server_loads_no_gateway_libraries() -> None:
    actions = sorted(module for module in project_modules() if in_package(module, "actions"))
    probe = (
        f"import importlib, sys\nfor name in {actions!r}:\n    importlib.import_module(name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'sqlalchemy', 'alembic', 'bot'}))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert len(actions) >= 5  # the probe imported the real action server modules
