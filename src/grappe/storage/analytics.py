"""One analytics layer over DuckDB (embedded default) and Spark (local mode), driven by Ibis."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from grappe.config import ENGINES, EngineName, Settings, get_settings
from grappe.errors import EngineError, FileFormatError, InputError

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

# Ibis 12 calls DuckDB's deprecated fetch_arrow_table(): a notice users cannot act on, silenced once
# for the process (warnings.catch_warnings around each call is not thread-safe: a server runs
# detections in threads, and one thread's exit restored the filters under another's feet).
warnings.filterwarnings("ignore", message=r"fetch_arrow_table\(\) is deprecated", category=DeprecationWarning)

_SPARK_HINT = "installez l'extra Spark : pip install 'grappe[spark]' (il faut aussi Java 17 ou plus)"

# Spark sizing for a small shared machine: the JVM heap plus Python stays under ~2 GB.
SPARK_CONFIG: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "1g",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
    "spark.sql.adaptive.enabled": "true",
}

_LOG4J2 = """rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""

_spark_lock = threading.Lock()
_spark_sessions: dict[str, Any] = {}


class Analytics:
    """A connection to one analytics engine; the same Ibis expressions run on either.

    Build it with :func:`connect`. Tables registered through :meth:`read_parquet` and
    :meth:`from_arrow` live as long as the connection; :meth:`close` releases them (the
    Spark session itself is shared by the process and stays up).

    Attributes
    ----------
    engine : str
        ``"duckdb"`` or ``"spark"``.
    backend : ibis.backends.BaseBackend
        The Ibis backend, for expressions this class does not wrap.
    """

    def __init__(self, engine: EngineName, backend: BaseBackend, session: Any = None) -> None:
        self.engine: EngineName = engine
        self.backend = backend
        self._session = session
        # Views are named per connection: Spark sessions are shared by the whole process.
        self._token = uuid.uuid4().hex[:8]
        self._views: list[str] = []
        self._closed = False

    def __repr__(self) -> str:
        return f"Analytics(engine={self.engine!r})"

    def __enter__(self) -> Analytics:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _view_name(self, name: str) -> str:
        if not name.isidentifier():
            raise InputError(f"nom de table {name!r} : lettres, chiffres et soulignés attendus")
        if self._closed:
            raise EngineError(f"la connexion {self.engine} est fermée")
        view = f"{name}_{self._token}"
        self._views.append(view)
        return view

    def read_parquet(self, files: Sequence[Path], name: str) -> ir.Table:
        """Register Parquet files as one table.

        Parameters
        ----------
        files : sequence of Path
            Parquet files with the same schema (read as one table).
        name : str
            A short identifier for the table (made unique per connection).

        Returns
        -------
        ibis.Table
            The table, lazily scanned by the engine.

        Raises
        ------
        InputError
            No file given, or a file does not exist.
        """
        paths = [Path(f) for f in files]
        if not paths:
            raise InputError(f"read_parquet({name!r}) : aucun fichier Parquet donné")
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise InputError(f"fichier Parquet introuvable : {', '.join(missing)}")
        view = self._view_name(name)
        strings = [str(p.resolve()) for p in paths]
        try:
            if self.engine == "spark":
                self._session.read.parquet(*strings).createOrReplaceTempView(view)
                return self.backend.table(view)
            return self.backend.read_parquet(strings, table_name=view)
        except _engine_errors() as exc:
            raise FileFormatError(
                f"{', '.join(strings)} : illisible comme Parquet par {self.engine} ({_first_line(exc)})"
            ) from exc

    def from_arrow(self, table: pa.Table, name: str) -> ir.Table:
        """Register an in-memory Arrow table (reference data, small mappings).

        Parameters
        ----------
        table : pyarrow.Table
            The data; it is not copied by DuckDB, and shipped once to Spark.
        name : str
            A short identifier for the table (made unique per connection).

        Returns
        -------
        ibis.Table
        """
        view = self._view_name(name)
        if self.engine == "spark":
            frame = (
                self._session.createDataFrame(table)
                if table.num_rows
                else self._session.createDataFrame([], schema=_spark_schema(table.schema))
            )
            frame.createOrReplaceTempView(view)
            return self.backend.table(view)
        self.backend.con.register(view, table)
        return self.backend.table(view)

    def to_arrow(self, expr: ir.Expr) -> pa.Table:
        """Run an expression and return its (small) result as an Arrow table.

        The result keeps the schema of the expression on both engines.
        """
        if self._closed:
            raise EngineError(f"la connexion {self.engine} est fermée")
        table_expr = expr.as_table()
        schema = table_expr.schema()
        sql = self.backend.compile(table_expr)
        try:
            if self.engine == "duckdb":
                result = _duckdb_typed(self.backend.con.sql(sql), schema).to_arrow_table()
            else:
                result = self._session.sql(sql).toArrow()
        except _engine_errors() as exc:
            raise EngineError(f"la requête {self.engine} a échoué : {_first_line(exc)}") from exc
        target = schema.to_pyarrow()
        return pa.Table.from_arrays(
            [col.cast(field.type) for col, field in zip(result.columns, target, strict=True)],
            schema=target,
        )

    def close(self) -> None:
        """Release the tables of this connection (and the DuckDB database)."""
        if self._closed:
            return
        self._closed = True
        if self.engine == "spark":
            for view in self._views:
                self._session.catalog.dropTempView(view)
        else:
            self.backend.disconnect()
        self._views.clear()


def connect(engine: EngineName | str | None = None, settings: Settings | None = None) -> Analytics:
    """Open the analytics engine.

    Parameters
    ----------
    engine : {"duckdb", "spark"}, optional
        Default: ``Settings.engine`` (``GRAPPE_ENGINE``, itself ``"duckdb"`` by default).
    settings : Settings, optional
        Default: :func:`grappe.config.get_settings`. DuckDB takes ``memory_limit`` and
        ``threads`` and spills under ``<store>/.tmp/duckdb``; Spark takes ``spark_master``.

    Returns
    -------
    Analytics

    Raises
    ------
    InputError
        Unknown engine name.
    EngineError
        Spark asked but pyspark or Java is missing, or the session does not start.

    Examples
    --------
    >>> import pyarrow as pa
    >>> with connect("duckdb") as analytics:
    ...     t = analytics.from_arrow(pa.table({"n": [1, 2, 3]}), "numbers")
    ...     analytics.to_arrow(t.aggregate(total=t.n.sum())).to_pylist()
    [{'total': 6}]
    """
    settings = settings or get_settings()
    name = engine or settings.engine
    if name not in ENGINES:
        raise InputError(f"moteur {name!r} : valeurs possibles {', '.join(ENGINES)}")
    if name == "spark":
        session = spark_session(settings.spark_master)
        return Analytics("spark", ibis.pyspark.connect(session), session)
    temp = settings.store_dir / ".tmp" / "duckdb"
    temp.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "memory_limit": settings.memory_limit,
        "temp_directory": str(temp),
        # Results are never read in scan order (queries sort what they need), and keeping
        # that order costs memory on large scans.
        "preserve_insertion_order": False,
    }
    if settings.threads:
        config["threads"] = settings.threads
    backend = ibis.duckdb.connect(**config)
    backend.raw_sql("SET enable_progress_bar = false")  # the caller's Reporter shows progress
    return Analytics("duckdb", backend)


def spark_session(master: str = "local[2]") -> Any:
    """The process-wide Spark session (started once, then reused; about 5 s to start).

    Raises
    ------
    EngineError
        pyspark is not installed, Java is not found, or the JVM does not start.
    """
    with _spark_lock:
        if master in _spark_sessions:
            return _spark_sessions[master]
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise EngineError(f"le moteur Spark nécessite pyspark : {_SPARK_HINT}") from exc
        java_home = os.environ.get("JAVA_HOME")
        if shutil.which("java") is None and not (java_home and Path(java_home, "bin", "java").exists()):
            raise EngineError(f"le moteur Spark nécessite Java, introuvable : {_SPARK_HINT}")
        builder = SparkSession.builder.master(master).appName("grappe")
        # Small data on few cores: one shuffle partition per core, not Spark's 200.
        partitions = str(_local_cores(master))
        builder = builder.config("spark.sql.shuffle.partitions", partitions)
        builder = builder.config("spark.default.parallelism", partitions)
        for key, value in SPARK_CONFIG.items():
            builder = builder.config(key, value)
        # Spark would otherwise create ./spark-warehouse wherever the process runs, and
        # print its INFO/WARN start-up chatter on the user's terminal.
        scratch = Path(tempfile.gettempdir()) / f"grappe-spark-{os.getpid()}"
        scratch.mkdir(parents=True, exist_ok=True)
        log_config = scratch / "spark-log4j2.properties"
        log_config.write_text(_LOG4J2, encoding="utf-8")
        builder = builder.config("spark.sql.warehouse.dir", str(scratch / "spark-warehouse"))
        builder = builder.config(
            "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{log_config}"
        )
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # the JVM gateway raises several unrelated types
            raise EngineError(f"la session Spark n'a pas démarré ({exc}) ; {_SPARK_HINT}") from exc
        session.sparkContext.setLogLevel("ERROR")
        _spark_sessions[master] = session
        return session


def stop_spark() -> None:
    """Stop the process-wide Spark sessions (tests and long-lived servers call it at exit)."""
    with _spark_lock:
        for session in _spark_sessions.values():
            session.stop()
        _spark_sessions.clear()


def _local_cores(master: str) -> int:
    """Cores of a ``local[N]`` master (``local[*]``: all; a cluster URL: 4)."""
    match = re.fullmatch(r"local(?:\[(\d+|\*)(?:,\s*\d+)?\])?", master.strip())
    if match is None:
        return 4
    cores = match.group(1)
    if cores is None:
        return 1
    return max(2, os.cpu_count() or 2) if cores == "*" else max(2, int(cores))


def _duckdb_typed(relation: Any, schema: ibis.Schema) -> Any:
    """``relation`` with its integer columns cast in the engine to the expression's types.

    DuckDB sums integers in 128 bits (HUGEINT, DECIMAL(38, 0) in Arrow) where the expression
    says int64; casting in the engine is parallel and cheap, converting Arrow decimals after is
    neither.
    """
    from ibis.backends.sql.datatypes import DuckDBType

    columns = []
    changed = False
    for name, produced, dtype in zip(relation.columns, relation.types, schema.types, strict=True):
        quoted = '"' + name.replace('"', '""') + '"'
        wanted = DuckDBType.to_string(dtype)
        if dtype.is_integer() and str(produced) != wanted:
            columns.append(f"CAST({quoted} AS {wanted}) AS {quoted}")
            changed = True
        else:
            columns.append(quoted)
    return relation.project(", ".join(columns)) if changed else relation


def _engine_errors() -> tuple[type[BaseException], ...]:
    """The exception types the engines raise for a failed query (not grappe's own)."""
    import duckdb

    errors: list[type[BaseException]] = [duckdb.Error]
    try:
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException
    except ImportError:
        return tuple(errors)
    return (*errors, PySparkException, Py4JError)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _spark_schema(schema: pa.Schema) -> Any:
    from ibis.backends.pyspark.datatypes import PySparkSchema

    return PySparkSchema.from_ibis(ibis.Schema.from_pyarrow(schema))
