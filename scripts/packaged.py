"""What the scripts that derive the package's data share: paths, digests, writers, provenance."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "grappe" / "refdata" / "data"
T = TypeVar("T")


def shared_data() -> Path:
    """The shared data folder (``GRAPPE_SHARED_DATA`` or ../shared/data beside the checkout)."""
    return Path(os.environ.get("GRAPPE_SHARED_DATA", ROOT.parent / "shared" / "data"))


def sha256_of(path: Path) -> str:
    """The sha256 hex digest of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write a table reproducibly (no pandas metadata, fixed row groups and codec)."""
    table = table.replace_schema_metadata(None)
    pq.write_table(table, path, compression="zstd", compression_level=9,
                   row_group_size=1 << 20, write_statistics=True, use_dictionary=True)


def record(out: Path, name: str, entry: dict[str, Any]) -> None:
    """Set the entry of ``name`` in ``out``/PROVENANCE.json, keeping the other scripts' entries."""
    manifest = out / "PROVENANCE.json"
    document = json.loads(manifest.read_text("utf-8")) if manifest.exists() else {"files": {}}
    document["files"][name] = entry
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1)
    manifest.write_text(text + "\n", encoding="utf-8")


def check_rebuild(out: Path, name: str, rebuild: Callable[[Path], T]) -> T:
    """Rebuild ``name`` into a temporary folder; exit unless file and provenance equal ``out``'s."""
    with tempfile.TemporaryDirectory() as tmp:
        result = rebuild(Path(tmp))
        same = (Path(tmp) / name).read_bytes() == (out / name).read_bytes()
        recorded = json.loads((out / "PROVENANCE.json").read_text("utf-8"))["files"]
        rebuilt = json.loads((Path(tmp) / "PROVENANCE.json").read_text("utf-8"))["files"]
        if not same or recorded.get(name) != rebuilt[name]:
            sys.exit(f"{name} or its provenance differs from a rebuild")
    return result


def command_line(doc: str, output_name: str, source_name: str,
                 build: Callable[[Path, Path], T], report: Callable[[T], str]) -> None:
    """The command line of a builder whose source is one file of the shared data.

    ``build(out, source)`` writes ``output_name`` into ``out``; ``--check`` rebuilds it in a
    temporary folder and exits unless the bytes and the provenance equal the package's.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="rebuild into a temporary folder and compare with the package")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder")
    parser.add_argument("--source", type=Path, default=None,
                        help=f"the source file (default: GRAPPE_SHARED_DATA/{source_name})")
    args = parser.parse_args()
    source = args.source if args.source is not None else shared_data() / source_name
    if not args.check:
        result = build(args.out, source)
        print(f"{output_name} written to {args.out}\n{report(result)}")
        return
    result = check_rebuild(args.out, output_name, lambda tmp: build(tmp, source))
    print(f"{output_name} is identical to a rebuild\n{report(result)}")
