"""Ibis's SQL compilers load one by one: a DuckDB connection does not import the other dialects."""

from __future__ import annotations

import ast
import subprocess
import sys

_PROBE = """
import sys
import grappe.storage.analytics  # installs the finder
import ibis
{body}
print(sorted(m.rsplit(".", 1)[-1] for m in sys.modules
             if m.startswith("ibis.backends.sql.compilers.")))
"""


def _loaded(body: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", _PROBE.format(body=body)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return list(ast.literal_eval(done.stdout.strip().splitlines()[-1]))


def test_a_duckdb_connection_loads_the_duckdb_compiler_alone() -> None:
    body = """
con = ibis.duckdb.connect()
t = ibis.memtable({"a": [1, 2, 2]})
assert con.to_pyarrow(t.group_by("a").aggregate(n=t.count()).order_by("a")).to_pylist() == [
    {"a": 1, "n": 1}, {"a": 2, "n": 2}]
"""
    assert _loaded(body) == ["_compat", "base", "duckdb"]


def test_other_compilers_and_submodules_are_found_when_asked_for() -> None:
    body = """
import ibis.backends.sql.compilers as sc
from ibis.backends.sql.compilers import SQLiteCompiler
assert sc.PostgresCompiler.__module__ == "ibis.backends.sql.compilers.postgres"
assert SQLiteCompiler.__name__ == "SQLiteCompiler"
assert sc.trino.TrinoCompiler is sc.TrinoCompiler
"""
    assert _loaded(body) == ["_compat", "base", "postgres", "sqlite", "trino"]


def test_an_unknown_name_runs_the_package_as_ibis_wrote_it() -> None:
    body = """
import ibis.backends.sql.compilers as sc
try:
    sc.NoSuchThing
except AttributeError:
    pass
else:
    raise SystemExit("NoSuchThing found")
assert set(sc.__all__) <= set(dir(sc))
"""
    loaded = _loaded(body)
    assert {"athena", "bigquery", "duckdb", "postgres", "snowflake", "trino"} <= set(loaded)
