"""The dependency rule of STYLE.md, checked on the source: interfaces -> domains -> storage/refdata/kit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "grappe"
INTERFACES = {"cli", "api", "web"}
ANALYSIS = {"refdata", "fabric", "detection"}
LOW = ("storage", "refdata", "kit")  # below every domain; kit is the shared kit
WEB_STACK = {"fastapi", "starlette", "sqlalchemy", "alembic", "uvicorn", "psycopg"}
#: The SQL kit of the operational domains (unit of work, repository base, audit hook): the
#: analysis domains never import it, so it may use SQLAlchemy.
SQL_KIT = {"unit.py", "repository.py", "audit.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(top: str) -> list[Path]:
    folder = PACKAGE / top
    return sorted(folder.rglob("*.py")) if folder.is_dir() else []


def _domains() -> list[str]:
    return sorted(
        p.name
        for p in PACKAGE.iterdir()
        if p.is_dir() and (p / "__init__.py").exists() and p.name not in INTERFACES
    )


@pytest.mark.parametrize("domain", _domains())
def test_domains_never_import_interfaces(domain: str) -> None:
    for path in _modules(domain):
        bad = {m for m in _imports(path) if m.split(".")[:2] in ([["grappe", i] for i in INTERFACES])}
        assert not bad, f"{path.relative_to(PACKAGE)} imports an interface: {sorted(bad)}"


@pytest.mark.parametrize("domain", [*sorted(ANALYSIS), "kit"])
def test_analysis_domains_do_not_need_the_web_stack(domain: str) -> None:
    for path in _modules(domain):
        if domain == "kit" and path.name in SQL_KIT:
            continue  # no analysis domain imports it (next test)
        bad = {m for m in _imports(path) if m.split(".")[0] in WEB_STACK}
        assert not bad, f"{path.relative_to(PACKAGE)} imports the web stack: {sorted(bad)}"


def test_analysis_domains_do_not_import_the_sql_kit() -> None:
    sql_kit = {f"grappe.kit.{name.removesuffix('.py')}" for name in SQL_KIT}
    for domain in ANALYSIS:
        for path in _modules(domain):
            bad = _imports(path) & sql_kit
            assert not bad, f"{path.relative_to(PACKAGE)} imports the SQL kit: {sorted(bad)}"


def test_low_layers_do_not_import_domains() -> None:
    upper = set(_domains()) - set(LOW)
    for top in LOW:
        assert _modules(top), f"{top}/ has no module: the check would pass on nothing"
        for path in _modules(top):
            bad = {m for m in _imports(path) if m.split(".")[:2] in [["grappe", d] for d in upper]}
            assert not bad, f"{path.relative_to(PACKAGE)} imports a domain above it: {sorted(bad)}"


def test_analysis_domains_may_use_the_kit_only_below_them() -> None:
    # the kit is the one place for cross-domain helpers (safe exports); analysis domains
    # reach it, never the registry
    kit_users = {
        d for d in ANALYSIS for path in _modules(d) if any(m.startswith("grappe.kit") for m in _imports(path))
    }
    assert "detection" in kit_users
    for domain in ANALYSIS:
        for path in _modules(domain):
            bad = {m for m in _imports(path) if m.startswith("grappe.registry")}
            assert not bad, f"{path.relative_to(PACKAGE)} imports the registry: {sorted(bad)}"
