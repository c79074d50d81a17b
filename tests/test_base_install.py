"""The plain `pip install grappe` (no server extra) runs the analysis commands and the demo."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# Run the CLI in a child where the server extra cannot be imported, as on a base install.
_BLOCKED = textwrap.dedent("""
    import sys
    from importlib.abc import MetaPathFinder

    class Block(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {"sqlalchemy", "alembic", "psycopg", "fastapi", "uvicorn",
                                      "ortools", "bm25s", "Stemmer"}:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Block())
    sys.argv = ["grappe", *sys.argv[1:]]
    from grappe.cli import main
    main()
""")


def _grappe(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"GRAPPE_HOME": str(home), "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    if "PYTHONPATH" in os.environ:  # the checkout under test, not another installed copy
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return subprocess.run([sys.executable, "-c", _BLOCKED, *args], capture_output=True,
                          text=True, timeout=600, env=env, check=False)


@pytest.mark.slow
def test_demo_runs_without_the_server_extra(tmp_path: Path) -> None:
    done = _grappe("demo", "--dir", str(tmp_path / "demo"), "--establishments", "20000",
                   home=tmp_path)
    assert done.returncode == 0, done.stderr
    # at most 20: the title counts the candidates printed
    assert re.search(r"Les (1?\d|20) grappes potentielles les mieux classées", done.stdout)


def test_registry_says_which_extra_it_needs(tmp_path: Path) -> None:
    done = _grappe("registry", "list", home=tmp_path)
    assert done.returncode == 2
    assert "pip install 'grappe[server]'" in done.stderr
    assert "sqlalchemy" in done.stderr
    listing = _grappe("--help", home=tmp_path)
    assert listing.returncode == 0
    assert "registry" in listing.stdout


def test_the_assignment_says_which_extra_it_needs(tmp_path: Path) -> None:
    files = []
    for name, text in (("r.csv", "reviewer\nR1\n"), ("a.csv", "application\nA1\n"),
                       ("f.csv", "reviewer,application,affinity\n"), ("c.csv", "reviewer,application\n")):
        (tmp_path / name).write_text(text, encoding="utf-8")
        files.append(str(tmp_path / name))
    done = _grappe("calls", "assign", "--reviewers", files[0], "--applications", files[1],
                   "--affinity", files[2], "--conflicts", files[3], "--per-application", "1",
                   "--load-cap", "1", "--out", str(tmp_path / "out.csv"), home=tmp_path)
    assert done.returncode == 2
    assert "pip install 'grappe[solvers]'" in done.stderr
    assert not (tmp_path / "out.csv").exists()


def test_cooperation_says_which_extra_it_needs(tmp_path: Path) -> None:
    done = _grappe("cooperation", "network", "--all", "--out", str(tmp_path / "r.csv"), home=tmp_path)
    assert done.returncode == 2
    assert "`grappe cooperation` nécessite l'extra server" in done.stderr
def test_the_partner_search_says_which_extra_it_needs(tmp_path: Path) -> None:
    (tmp_path / "q.csv").write_text("organisation\nBIOCYTEX\n", encoding="utf-8")
    done = _grappe("partners", "suggest", "--for", str(tmp_path / "q.csv"), "--top", "3",
                   "--out", str(tmp_path / "out.csv"), home=tmp_path)
    assert done.returncode == 2
    assert "pip install 'grappe[search]'" in done.stderr
    assert not (tmp_path / "out.csv").exists()
