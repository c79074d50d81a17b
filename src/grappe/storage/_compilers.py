"""Ibis's SQL compilers, each imported when first used rather than all twenty at once.

``ibis.backends.sql.compilers`` imports the compiler of every dialect Ibis knows (Athena,
BigQuery, ClickHouse… Trino) as soon as any backend loads; grappe runs on DuckDB or Spark and
needs one or two of them. :func:`install` puts a finder before the standard ones: it loads
the package from its own directory but, instead of running its ``__init__``, gives the package
a module ``__getattr__`` that imports ``<dialect>.py`` when ``XCompiler`` is first asked for.
``from ibis.backends.sql.compilers import DuckDBCompiler``, ``sc.PostgresCompiler``,
``sc.duckdb`` and the submodules work as before. A name found otherwise (say Ibis one day
names a compiler differently) runs the package's own ``__init__``, every compiler loaded.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

PACKAGE = "ibis.backends.sql.compilers"
SUFFIX = "Compiler"


def _lazy_package(module: ModuleType, run_init: Any) -> None:
    """Give ``module`` (the compilers package) a ``__getattr__`` importing one dialect."""
    state: dict[str, bool] = {"full": False}

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module attribute hook (PEP 562)
        if not state["full"] and not name.startswith("_"):
            compiler = name.endswith(SUFFIX) and name != SUFFIX
            # `sc.DuckDBCompiler` lives in `duckdb.py`; `sc.duckdb` is the submodule itself
            submodule = name[: -len(SUFFIX)].lower() if compiler else name
            try:
                found = importlib.import_module(f"{PACKAGE}.{submodule}")
            except ModuleNotFoundError:
                found = None
            if found is not None and (not compiler or hasattr(found, name)):
                value = getattr(found, name) if compiler else found
                setattr(module, name, value)
                return value
        if not state["full"] and not name.startswith("__"):
            state["full"] = True
            run_init(module)  # the package as Ibis wrote it: every compiler
            if name in module.__dict__:
                return module.__dict__[name]
        raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")

    module.__getattr__ = __getattr__  # type: ignore[method-assign]


class _LazyCompilersFinder(importlib.abc.MetaPathFinder):
    """Finds the compilers package as the path finder does, loads it without its imports."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != PACKAGE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run_init = spec.loader.exec_module
        spec.loader.exec_module = lambda module: _lazy_package(module, run_init)  # type: ignore[method-assign]
        return spec


def install() -> None:
    """Load Ibis's compilers one by one from now on (idempotent; no effect once loaded)."""
    if PACKAGE in sys.modules or any(isinstance(f, _LazyCompilersFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _LazyCompilersFinder())
