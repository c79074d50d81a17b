"""Access to the packaged reference data files (src/grappe/refdata/data/)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from grappe.errors import NotFoundError


def data_path(name: str) -> Path:
    """The path of one packaged data file; raises NotFoundError when it is missing."""
    path = Path(str(files("grappe.refdata").joinpath("data", name)))
    if not path.is_file():
        raise NotFoundError(
            f"fichier de référence absent du paquet : {path} "
            "(reconstruire avec `python scripts/build_refdata.py`)"
        )
    return path


@lru_cache(maxsize=32)
def read_table(name: str) -> pa.Table:
    """A packaged Parquet table, read once per process."""
    return pq.read_table(data_path(f"{name}.parquet"))


@lru_cache(maxsize=1)
def provenance() -> dict[str, Any]:
    """The content of PROVENANCE.json: sources, versions, licences and checksums."""
    result: dict[str, Any] = json.loads(data_path("PROVENANCE.json").read_text("utf-8"))
    return result
