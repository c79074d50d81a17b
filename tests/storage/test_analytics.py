"""The analytics layer: one API over DuckDB and Spark, configured from Settings."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from grappe.config import Settings
from grappe.errors import EngineError, FileFormatError, InputError
from grappe.storage import connect, spark_session

SAMPLE = pa.table(
    {
        "code": pa.array(["25.62A", "22.29A", "25.62A", None], pa.string()),
        "day": pa.array([dt.date(2020, 1, 1), None, dt.date(2021, 5, 2), dt.date(2019, 3, 4)]),
        "n": pa.array([1, 2, 3, 4], pa.int64()),
        "share": pa.array([0.5, 1.25, None, 2.0], pa.float64()),
        "flag": pa.array([True, False, None, True]),
    }
)


def test_duckdb_round_trip(tmp_path: Path) -> None:
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(SAMPLE.slice(0, 2), first)
    pq.write_table(SAMPLE.slice(2), second)
    with connect("duckdb") as analytics:
        assert analytics.engine == "duckdb"
        table = analytics.read_parquet([first, second], "sample")
        assert analytics.to_arrow(table.order_by("n")).equals(SAMPLE)
        registered = analytics.from_arrow(SAMPLE, "memory")
        result = analytics.to_arrow(
            registered.group_by("code").aggregate(n=registered.n.sum()).order_by("code")
        )
    assert result.to_pylist() == [
        {"code": "22.29A", "n": 2},
        {"code": "25.62A", "n": 4},
        {"code": None, "n": 4},
    ]


def test_duckdb_settings(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", memory_limit="512MB", threads=1)
    with connect(settings=settings) as analytics:
        con = analytics.backend.con  # type: ignore[attr-defined]
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
        temp = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    assert limit in {"512.0 MB", "488.2 MiB", "512.0 MiB"}
    assert int(threads) == 1
    assert Path(temp) == settings.store_dir / ".tmp" / "duckdb"
    assert Path(temp).is_dir()


def test_engine_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GRAPPE_ENGINE", "duckdb")
    with connect(settings=Settings(home=tmp_path)) as analytics:
        assert analytics.engine == "duckdb"


def test_wrong_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"moteur 'oracle' : valeurs possibles duckdb, spark"):
        connect("oracle")
    analytics = connect("duckdb")
    with pytest.raises(InputError, match="aucun fichier Parquet donné"):
        analytics.read_parquet([], "empty")
    with pytest.raises(InputError, match=r"fichier Parquet introuvable : .*missing.parquet"):
        analytics.read_parquet([tmp_path / "missing.parquet"], "missing")
    with pytest.raises(InputError, match="nom de table 'bad name'"):
        analytics.from_arrow(SAMPLE, "bad name")
    analytics.close()
    analytics.close()  # closing twice is harmless
    with pytest.raises(EngineError, match="connexion duckdb est fermée"):
        analytics.from_arrow(SAMPLE, "late")


def test_spark_without_pyspark(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # import fails as if not installed
    with pytest.raises(EngineError, match=r"pip install 'grappe\[spark\]'"):
        spark_session("local[1]")


def test_spark_without_java(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(EngineError, match="nécessite Java, introuvable"):
        spark_session("local[1]")


@pytest.mark.parametrize(
    ("master", "cores"), [("local", 1), ("local[2]", 2), ("local[8, 3]", 8), ("spark://host:7077", 4)]
)
def test_spark_partitions_follow_the_master(master: str, cores: int) -> None:
    from grappe.storage.analytics import _local_cores

    assert _local_cores(master) == cores


@pytest.mark.spark
def test_spark_matches_duckdb(tmp_path: Path) -> None:
    path = tmp_path / "sample.parquet"
    pq.write_table(SAMPLE, path)
    results = {}
    for engine in ("duckdb", "spark"):
        with connect(engine) as analytics:
            assert analytics.engine == engine
            table = analytics.read_parquet([path], "sample")
            memory = analytics.from_arrow(SAMPLE.select(["code", "share"]), "shares")
            joined = table.join(memory.rename(share2="share"), "code")
            expr = (
                joined.group_by("code")
                .aggregate(
                    n=joined.n.sum(),
                    last=joined.day.max(),
                    share=joined.share2.sum(),
                    flagged=joined.flag.fill_null(False).cast("int64").sum(),
                )
                .order_by("code")
            )
            results[engine] = analytics.to_arrow(expr)
            empty = analytics.from_arrow(SAMPLE.slice(0, 0), "empty")
            assert analytics.to_arrow(empty).num_rows == 0
    assert results["spark"].schema == results["duckdb"].schema
    assert results["spark"].equals(results["duckdb"])


def test_engine_failures_are_grappe_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really parquet")
    with connect("duckdb") as analytics:
        with pytest.raises(FileFormatError, match=r"broken\.parquet : illisible comme Parquet par duckdb"):
            analytics.read_parquet([broken], "broken")
        table = analytics.from_arrow(SAMPLE, "sample")
        with pytest.raises(EngineError, match="la requête duckdb a échoué"):
            analytics.to_arrow(table.select(bad=table.code.cast("int64")))
    with pytest.raises(EngineError, match="connexion duckdb est fermée"):
        analytics.to_arrow(table)
