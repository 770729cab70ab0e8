"""The house's import order, checked on every module so an upward import fails CI.

kernel → notifications → accounts → catalogue → booking → waitlist → payments → attendance → reminders
→ calendar_feeds → handouts → messages → teaching → organiser. Models (with booking/capacity's place-counting expressions and booking/states'
status table) are a floor every module may read. Routes compose any feature's services but never import another
blueprint's views. The app factory, the CLI, the demo data and the model registry sit on
top and may import anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import instructor_portal

PACKAGE = Path(instructor_portal.__file__).parent
LAYERS = (
    "kernel",
    "notifications",
    "accounts",
    "catalogue",
    "booking",
    "waitlist",
    "payments",
    "attendance",
    "reminders",
    "calendar_feeds",
    "handouts",
    "messages",
    "teaching",
    "organiser",
)
COMPOSITION = {"instructor_portal", "instructor_portal.cli", "instructor_portal.demo", "instructor_portal.models"}
FLOOR = {"instructor_portal.booking.capacity", "instructor_portal.booking.states"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def feature(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in LAYERS else "kernel"


def imports(path: Path) -> set[str]:
    """Every instructor_portal module this file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            # `from instructor_portal.accounts import two_step` imports the module two_step.
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if _is_module(name)}


def _is_module(name: str) -> bool:
    if name != "instructor_portal" and not name.startswith("instructor_portal."):
        return False
    relative = Path(*name.split(".")[1:]) if "." in name else Path()
    base = PACKAGE / relative
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def is_floor(module: str) -> bool:
    return module.endswith(".models") or module in FLOOR


def is_views(module: str) -> bool:
    return module.endswith(".routes")


def upward_imports(importer: str, imported: set[str]) -> list[str]:
    """The imports of `importer` that break the layering, each with the reason."""
    if importer in COMPOSITION:
        return []
    mine = feature(importer)
    problems = []
    for target in sorted(imported - {importer}):
        theirs = feature(target)
        if target in ("instructor_portal",) + tuple(f"instructor_portal.{name}" for name in LAYERS):
            continue  # a package's empty __init__
        if is_views(target) and theirs != mine:
            problems.append(f"{importer} imports {target}: another blueprint's views")
        elif is_floor(importer) and not (is_floor(target) or theirs == "kernel"):
            problems.append(f"{importer} imports {target}: models reach only models and the kernel")
        elif is_floor(target) or theirs == mine:
            continue
        elif is_views(importer):
            continue  # routes compose any feature's services
        elif LAYERS.index(theirs) > LAYERS.index(mine):
            problems.append(f"{importer} ({mine}) imports {target} ({theirs}): an upward import")
    return problems


def package_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def test_every_import_points_down_the_layers():
    problems = [problem for name, path in package_modules().items() for problem in upward_imports(name, imports(path))]
    assert problems == []


@pytest.mark.parametrize(
    ("importer", "target", "allowed"),
    [
        ("instructor_portal.payments.checkout", "instructor_portal.booking.services", True),
        ("instructor_portal.booking.services", "instructor_portal.payments.services", False),
        ("instructor_portal.booking.services", "instructor_portal.payments.models", True),
        ("instructor_portal.organisation", "instructor_portal.accounts.services", False),
        ("instructor_portal.accounts.models", "instructor_portal.accounts.services", False),
        ("instructor_portal.booking.routes", "instructor_portal.payments.checkout", True),
        ("instructor_portal.organiser.routes", "instructor_portal.attendance.routes", False),
        ("instructor_portal.catalogue.services", "instructor_portal.booking.capacity", True),
        ("instructor_portal.cli", "instructor_portal.organiser.retention", True),
    ],
)
def test_the_rule_tells_down_from_up(importer, target, allowed):
    assert (upward_imports(importer, {target}) == []) is allowed


def test_the_checker_reads_imports_inside_functions(tmp_path):
    source = tmp_path / "late.py"
    source.write_text("def f():\n    from instructor_portal.payments import checkout\n")
    assert imports(source) == {"instructor_portal.payments", "instructor_portal.payments.checkout"}
