"""The layer rule of docs/architecture.md, checked on the source: import-linter contracts and domain doors."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
SOURCE = ROOT / "src"
CONFIG: dict[str, Any] = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
CONTRACTS: list[dict[str, Any]] = CONFIG["tool"]["importlinter"]["contracts"]
CONTRACT = {contract["id"]: contract for contract in CONTRACTS}
INTERFACES = [name.removeprefix("grappe.") for name in CONTRACT["interfaces-call-services"]["source_modules"]]

#: What a sub-domain shows the others: they import its service and its schemas, nothing else.
DOORS = frozenset({"service", "schemas"})
#: SQLAlchemy's statement builders: written in repositories, never in a service or an interface.
SQL_STATEMENTS = frozenset({"select", "insert", "update", "delete", "text", "union", "exists"})


def lint_imports(source: Path, *contract_ids: str) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the package found in ``source`` (a ``src`` folder), as the CLI does."""
    command = [
        sys.executable,
        "-c",
        "from importlinter.cli import lint_imports_command; lint_imports_command()",
        "--no-cache",
        "--no-logo",
        *(arg for contract in contract_ids for arg in ("--contract", contract)),
        str(PYPROJECT),
    ]
    # wide lines: a chain is one line of the report, whatever its length
    env = {**os.environ, "PYTHONPATH": str(source), "COLUMNS": "400"}
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=300)


@contextmanager
def package_graph(source: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[grimp.ImportGraph]:
    """The import graph of the package in ``source`` (grimp sees relative imports too).

    grimp finds the package through the import system, which answers with an already imported
    ``grappe`` if there is one: hide it for the time of the build.
    """
    with monkeypatch.context() as patch:
        patch.syspath_prepend(str(source))
        patch.delitem(sys.modules, "grappe", raising=False)
        yield grimp.build_graph("grappe", cache_dir=None)


def crossings(graph: grimp.ImportGraph) -> list[str]:
    """Direct imports from one sub-domain into another that go past its service and schemas.

    A sub-domain is a sub-package with a ``service`` module (``grappe.registry.fees``); the
    modules beside the sub-domains (models, policy, audit) are shared and reachable by all.
    """
    found: list[str] = []
    for domain in sorted(graph.find_children("grappe")):
        subs = sorted(child for child in graph.find_children(domain) if f"{child}.service" in graph.modules)
        for importer_sub in subs:
            for importer in sorted({importer_sub} | graph.find_descendants(importer_sub)):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    target = next((s for s in subs if imported == s or imported.startswith(f"{s}.")), None)
                    if target is None or target == importer_sub:
                        continue
                    door = imported.removeprefix(f"{target}.").split(".")[0]
                    if imported == target or door not in DOORS:
                        found.append(f"{importer} -> {imported}")
    return found


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def sql_statements(path: Path) -> list[str]:
    """The SQL statements a module builds with SQLAlchemy, as ``line: name``."""
    tree = _tree(path)
    aliases = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name.split(".")[0] == "sqlalchemy"
    }
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            found += [f"{node.lineno}: {a.name}" for a in node.names if a.name in SQL_STATEMENTS]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in SQL_STATEMENTS
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            found.append(f"{node.lineno}: {node.value.id}.{node.attr}")
    return found


def transaction_ends(path: Path) -> list[str]:
    """The calls of a module that commit or roll back, as ``line: .commit()``."""
    return [
        f"{node.lineno}: .{node.func.attr}()"
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"commit", "rollback"}
    ]


def _python_only(folder: str, names: list[str]) -> set[str]:
    # grimp reads Python files only: the data, templates and assets stay out of the copy
    return {
        n for n in names if n == "__pycache__" or not (n.endswith(".py") or (Path(folder) / n).is_dir())
    }


@pytest.fixture
def tree_copy(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    """A copy of ``src/grappe`` (Python files only) with modules added; returns its ``src``.

    A module in a new folder makes that folder a package (an empty ``__init__.py``).
    """

    def make(modules: dict[str, str]) -> Path:
        package = tmp_path / "src" / "grappe"
        shutil.copytree(SOURCE / "grappe", package, ignore=_python_only)
        for name, text in modules.items():
            path = package / name
            path.parent.mkdir(parents=True, exist_ok=True)
            for folder in path.relative_to(package).parents:
                (package / folder / "__init__.py").touch()
            path.write_text(text, encoding="utf-8")
        return package.parent

    return make


@pytest.mark.parametrize("contract", CONTRACTS, ids=[c["id"] for c in CONTRACTS])
def test_contract_is_kept(contract: dict[str, Any]) -> None:
    result = lint_imports(SOURCE, contract["id"])
    assert result.returncode == 0, f"{contract['name']}:\n{result.stdout}{result.stderr}"


def test_forbidden_imports_fail_their_contract(tree_copy: Callable[[dict[str, str]], Path]) -> None:
    # Each line adds one import the rule forbids, absolute and relative, to a copy of the tree;
    # the report must name every one (the tree may break the contracts elsewhere too).
    source = tree_copy(
        {
            "detection/probe_absolute.py": "import grappe.registry\n",
            "fabric/probe_relative.py": "from ..registry import models\n",
            "refdata/probe_up.py": "from . import naf\nfrom ..fabric import store\n",
            "kit/probe_domain.py": "from ..detection import aggregate\n",
            "errors_probe.py": "",
            "newdomain/probe.py": "",
            "fabric/probe_web_stack.py": "import sqlalchemy\n",
            "detection/probe_sql.py": "from ..storage import sql\n",
            "registry/probe_later.py": "from grappe.cooperation import probe_target\n",
            "cooperation/probe_target.py": "",
            "cooperation/probe_later.py": "from ..partners import probe_target\n",
            "partners/probe_target.py": "",
            "calls/probe_later.py": "from grappe.evaluation import probe_target\n",
            "evaluation/probe_target.py": "",
            "cli/probe_cycle/one.py": "from . import two\n",
            "cli/probe_cycle/two.py": "from .one import __name__\n",
            "cli/probe_api.py": "from grappe.api import app\n",
            "cli/probe_web.py": "import grappe.web\n",
            "api/probe_repository.py": "from ..registry.probe_sub import repository\n",
            "registry/probe_sub/repository.py": "",
        }
    )
    result = lint_imports(source)
    report = result.stdout + result.stderr
    assert result.returncode == 1, report
    for chain in (
        "grappe.detection.probe_absolute -> grappe.registry",
        "grappe.fabric.probe_relative -> grappe.registry.models",
        "grappe.refdata.probe_up -> grappe.fabric.store",
        "grappe.kit.probe_domain -> grappe.detection.aggregate",
        "- grappe.errors_probe",
        "- grappe.newdomain",
        "grappe.fabric.probe_web_stack -> sqlalchemy",
        "grappe.detection.probe_sql -> grappe.storage.sql",
        "grappe.registry.probe_later -> grappe.cooperation.probe_target",
        "grappe.cooperation.probe_later -> grappe.partners.probe_target",
        "grappe.calls.probe_later -> grappe.evaluation.probe_target",
        "No cycles are allowed in grappe.cli.probe_cycle.",
        "grappe.cli.probe_api -> grappe.api.app",
        "grappe.cli.probe_web -> grappe.web",
        "grappe.api.probe_repository -> grappe.registry.probe_sub.repository",
    ):
        assert chain in report, f"{chain!r} not reported:\n{report}"
    assert "grappe.refdata.probe_up -> grappe.refdata.naf" not in report


def test_sub_domains_meet_through_their_services(monkeypatch: pytest.MonkeyPatch) -> None:
    with package_graph(SOURCE, monkeypatch) as graph:
        assert graph.find_children("grappe"), "the graph holds no module: the check would pass on nothing"
        assert crossings(graph) == []


def test_a_crossing_past_a_service_is_found(
    tree_copy: Callable[[dict[str, str]], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tree_copy(
        {
            "registry/alpha/service.py": "",
            "registry/alpha/schemas.py": "",
            "registry/alpha/repository.py": "",
            "registry/beta/repository.py": "from ..alpha import repository\nfrom . import service\n",
            "registry/beta/service.py": (
                "from grappe.registry.alpha import schemas, service\nfrom . import repository\n"
            ),
            "registry/beta/pages.py": "import grappe.registry.alpha\n",
        }
    )
    with package_graph(source, monkeypatch) as graph:
        found = [c for c in crossings(graph) if ".alpha" in c or ".beta" in c]
    # the service and schemas imports are doors; the repository and the bare package are not
    assert found == [
        "grappe.registry.beta.pages -> grappe.registry.alpha",
        "grappe.registry.beta.repository -> grappe.registry.alpha.repository",
    ]


def root_imports(graph: grimp.ImportGraph) -> list[str]:
    """What ``grappe/__init__.py`` imports of grappe beyond the base modules (the layers below storage)."""
    layers: list[str] = CONTRACT["layers"]["layers"]
    below_storage = layers[layers.index("storage") + 1 :]
    base = {f"grappe.{name.strip(' ()')}" for layer in below_storage for name in layer.split("|")}
    imported = graph.find_modules_directly_imported_by("grappe")
    return sorted(m for m in imported if m.startswith("grappe.") and ".".join(m.split(".")[:2]) not in base)


@pytest.mark.parametrize("added", ["", "from grappe import registry\n"], ids=["tree", "probe"])
def test_the_package_root_imports_only_base_modules(
    added: str, tree_copy: Callable[[dict[str, str]], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `import grappe` must stay light and below every domain (STYLE: the curated public API)
    root = (SOURCE / "grappe" / "__init__.py").read_text(encoding="utf-8")
    source = tree_copy({"__init__.py": root + added}) if added else SOURCE
    with package_graph(source, monkeypatch) as graph:
        found = root_imports(graph)
    assert found == (["grappe.registry"] if added else [])


def _modules_named(name: str) -> list[Path]:
    return sorted(p for p in (SOURCE / "grappe").rglob("*.py") if name in (p.stem, p.parent.name))


def test_services_never_write_sql_nor_commit() -> None:
    # the repository holds the SQL; the interface's unit of work commits or rolls back
    modules = _modules_named("service")
    for path in modules:
        where = path.relative_to(ROOT)
        assert not sql_statements(path), f"{where} writes SQL: {sql_statements(path)}"
        assert not transaction_ends(path), f"{where} ends the transaction: {transaction_ends(path)}"


@pytest.mark.parametrize("interface", INTERFACES)
def test_interfaces_never_write_sql(interface: str) -> None:
    modules = sorted((SOURCE / "grappe" / interface).rglob("*.py"))
    assert modules, f"grappe.{interface} has no module: the check would pass on nothing"
    for path in modules:
        assert not sql_statements(path), f"{path.relative_to(ROOT)} writes SQL: {sql_statements(path)}"


def test_sql_detection_sees_every_form(tmp_path: Path) -> None:
    module = tmp_path / "service.py"
    module.write_text(
        "import sqlalchemy as sa\nfrom sqlalchemy import Engine, select\n"
        "def f(session):\n    session.commit()\n    return sa.delete(1), Engine\n",
        encoding="utf-8",
    )
    assert sorted(sql_statements(module)) == ["2: select", "5: sa.delete"]
    assert transaction_ends(module) == ["4: .commit()"]


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_web_stack_contract_names_the_whole_server_extra() -> None:
    project = CONFIG["project"]
    core = {_requirement_name(r) for r in project["dependencies"]}
    server = {_requirement_name(r) for r in project["optional-dependencies"]["server"]} - core
    contract = CONTRACT["analysis-without-web-stack"]
    imported_as = importlib.metadata.packages_distributions()
    missing = sorted(
        top
        for top, distributions in imported_as.items()
        if {_requirement_name(d) for d in distributions} & server and top not in contract["forbidden_modules"]
    )
    installed = {_requirement_name(d) for distributions in imported_as.values() for d in distributions}
    assert server <= installed, f"server extra not installed, nothing to check: {sorted(server - installed)}"
    assert missing == [], f"packages of the server extra the analysis domains may import: {missing}"


def test_the_architecture_page_shows_the_contracts() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    layers = CONTRACT["layers"]["layers"]
    block = page.split("checks that the two are the same. -->\n```text\n", 1)[1].split("```", 1)[0]
    assert block.splitlines() == layers, "docs/architecture.md shows other layers than the contract"
    undocumented = [c["id"] for c in CONTRACTS if f"| `{c['id']}` |" not in page]
    assert undocumented == [], f"contracts missing from docs/architecture.md: {undocumented}"
