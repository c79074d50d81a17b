"""Bounds at the edge: every request field bounded by its column, one date rule, no control
character, overpayment refused (concurrent payments included), database refusals in French."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import types
from collections.abc import Iterator
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

import annotated_types
import pytest
from dbkit import PG_URL, Database, World, build_world, siren
from pydantic import BaseModel, ValidationError
from sqlalchemy import Numeric, String, select, text
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from grappe.api.routers import ROUTERS
from grappe.cli import app as cli_app
from grappe.config import get_settings
from grappe.errors import ConflictError, InputError
from grappe.registry import LOCAL_ADMIN, bounds
from grappe.registry.accounts.schemas import UserCreate
from grappe.registry.clusters.schemas import ClusterCreate
from grappe.registry.fees import service as fees
from grappe.registry.fees.schemas import FeeScheduleIn, PaymentIn
from grappe.registry.memberships import files as member_files
from grappe.registry.memberships.schemas import MembershipCreate
from grappe.registry.models import FeeCall, Organisation, Payment
from grappe.registry.organisations.schemas import OrganisationCreate
from grappe.storage.sql import session_scope

# --- every field users send is bounded ----------------------------------------------------

#: Text fields deliberately not bound to one column, and why.
UNMAPPED_TEXT = {
    ("OrganisationCreate", "siren"): "typed with spaces or dots, normalised to 9 digits",
    ("OrganisationCreate", "sirets"): "typed with spaces or dots, normalised to 14 digits",
    ("MembershipCreate", "siret"): "typed with spaces or dots, normalised to 14 digits",
    ("InvitationCreate", "siren"): "typed with spaces or dots, normalised to 9 digits",
    ("InvitationCreate", "siret"): "typed with spaces or dots, normalised to 14 digits",
    ("PartnerIn", "siren"): "typed with spaces or dots, normalised to 9 digits",
    ("ProjectIn", "summary"): "a TEXT column, bounded by grappe.cooperation.schemas.SUMMARY_LENGTH",
    # partners: calls for partners and the partner search
    ("PostingIn", "description"): "a TEXT column, bounded by postings.schemas.DESCRIPTION_LENGTH",
    ("SearchIn", "text"): "a search, not stored: bounded by profiles.schemas.SEARCH_TEXT_LENGTH",
    ("SearchIn", "territories"): "département codes, not stored: bounded by TERRITORY_LENGTH",
    # calls: TEXT columns bounded by grappe.calls.schemas.LONG_TEXT / NOTE_TEXT, JSON list items
    ("CallIn", "description"): "a TEXT column, bounded by grappe.calls.schemas.LONG_TEXT",
    ("ApplicationIn", "summary"): "a TEXT column, bounded by grappe.calls.schemas.LONG_TEXT",
    ("DecisionIn", "justification"): "stored in the TEXT Call.decision_note, bounded by LONG_TEXT",
    ("CriterionIn", "guidance"): "a TEXT column, bounded by grappe.calls.schemas.NOTE_TEXT",
    ("MarkIn", "comment"): "a TEXT column, bounded by grappe.calls.schemas.NOTE_TEXT",
    ("ApplicationIn", "tags"): "items of a JSON list column, 60 characters each",
    ("ApplicationIn", "keywords"): "items of a JSON list column, 60 characters each",
    ("ReviewerIn", "tags"): "items of a JSON list column, 60 characters each",
    ("ReviewerIn", "keywords"): "items of a JSON list column, 60 characters each",
    ("RuleIn", "rule"): "an eligibility rule's name inside the JSON Call.rules, checked by parse_rules",
}


#: The routes of every domain's router.


def _request_models() -> set[type[BaseModel]]:
    """The body models of every API operation (the CLI builds the same schemas)."""
    found: set[type[BaseModel]] = set()
    for route in (route for router in ROUTERS for route in router.routes):
        hints = get_type_hints(route.endpoint, include_extras=True)  # type: ignore[attr-defined]
        for key, hint in hints.items():
            if key != "return" and isinstance(hint, type) and issubclass(hint, BaseModel):
                found.add(hint)
    return found


def _leaves(annotation: Any, metadata: tuple[Any, ...] = ()) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    """The scalar types a field holds, with the metadata that applies to each."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        yield from _leaves(base, (*metadata, *extra))
    elif origin in (Union, types.UnionType):
        for arg in get_args(annotation):
            if arg is not type(None):
                yield from _leaves(arg, metadata)
    elif origin is list:
        # The list's own metadata (its length) is not its items'.
        yield from _leaves(get_args(annotation)[0])
    else:
        yield annotation, metadata


def _walk(models: set[type[BaseModel]]) -> Iterator[tuple[type[BaseModel], str, Any, tuple[Any, ...]]]:
    seen: set[type[BaseModel]] = set()
    todo = list(models)
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, info in model.model_fields.items():
            for leaf, metadata in _leaves(info.annotation, tuple(info.metadata)):
                if isinstance(leaf, type) and issubclass(leaf, BaseModel):
                    todo.append(leaf)
                else:
                    yield model, name, leaf, metadata


def _one(metadata: tuple[Any, ...], kinds: tuple[type, ...]) -> Any:
    found = [m for m in metadata if isinstance(m, kinds)]
    return found[0] if len(found) == 1 else None


def test_every_request_field_is_bounded_by_its_column() -> None:
    models = _request_models()
    assert {ClusterCreate, PaymentIn, UserCreate, FeeScheduleIn, OrganisationCreate} <= models
    problems: list[str] = []
    checked = 0
    for model, name, leaf, metadata in _walk(models):
        where = f"{model.__name__}.{name}"
        checked += 1
        if leaf is bool or (isinstance(leaf, type) and issubclass(leaf, Enum)):
            continue
        if leaf is str:
            bound = _one(metadata, (bounds.Text,))
            if bound is None:
                problems.append(f"{where}: text without a Text bound")
            elif bound.column is None:
                if (model.__name__, name) not in UNMAPPED_TEXT:
                    problems.append(f"{where}: Text bound to no column (and not listed as such)")
            else:
                kind = bound.column.expression.type
                assert isinstance(kind, String)
                if kind.length is not None and bound.max_length != kind.length:
                    problems.append(f"{where}: max_length {bound.max_length} != column {kind.length}")
        elif leaf is int:
            bound = _one(metadata, (bounds.Int, bounds.Year))
            if bound is None or bound.column is None:
                problems.append(f"{where}: integer without a bound on its column")
                continue
            limit = bounds.integer_limit(bound.column)
            low, high = (
                (bound.ge, bound.le)
                if isinstance(bound, bounds.Int)
                else (bound.rule.earliest, bound.rule.latest())
            )
            if not -limit - 1 <= low <= high <= limit:
                problems.append(f"{where}: {low}..{high} does not fit its column (±{limit})")
        elif leaf is Decimal:
            bound = _one(metadata, (bounds.Amount,))
            if bound is None or not isinstance(bound.column.expression.type, Numeric):
                problems.append(f"{where}: amount without a NUMERIC column bound")
        elif leaf is float:
            # a measure or a setting with no column of its own: both ends bounded, finite
            low, high = _one(metadata, (annotated_types.Ge,)), _one(metadata, (annotated_types.Le,))
            finite = any(getattr(m, "allow_inf_nan", None) is False for m in metadata)
            if low is None or high is None or not finite:
                problems.append(f"{where}: real number without finite ge/le bounds")
        elif leaf is dt.date:
            if _one(metadata, (bounds.Dated,)) is None:
                problems.append(f"{where}: date without a date rule")
        elif leaf is dt.datetime:
            if _one(metadata, (bounds.Timed,)) is None:
                problems.append(f"{where}: moment without a date rule")
        else:
            problems.append(f"{where}: {leaf!r} has no bound rule")
    assert checked > 80
    assert problems == []


def test_no_response_field_checks_a_bound() -> None:
    """What the API answers is what is stored: rows an earlier version (or SQL) wrote outside
    today's bounds must read back (tests/api/test_stored_outside_bounds.py), not answer 500."""
    models: set[type[BaseModel]] = set()
    for route in (route for router in ROUTERS for route in router.routes):
        for leaf, _ in _leaves(getattr(route, "response_model", None)):
            if isinstance(leaf, type) and issubclass(leaf, BaseModel):
                models.add(leaf)
    assert len(models) > 15
    walked = list(_walk(models))
    bounded = [f"{model.__name__}.{name}" for model, name, _, metadata in walked if metadata]
    assert bounded == []
    assert {model.__name__ for model, *_ in walked} >= {"ContactOut", "FeeRuleStored", "SeatHolderOut"}


def test_openapi_documents_the_bounds() -> None:
    schema = OrganisationCreate.model_json_schema()["properties"]
    assert schema["name"]["maxLength"] == Organisation.__table__.c.name.type.length == 300
    item = UserCreate.model_json_schema()["properties"]["clusters"]["items"]
    assert (item["minimum"], item["maximum"]) == (1, 2**31 - 1)


@pytest.mark.parametrize(
    ("model", "values", "message"),
    [
        (OrganisationCreate, {"name": "A" * 100_000}, "trop long : 100000 caractères, 300 au plus"),
        (OrganisationCreate, {"name": "Bad\x01Name"}, "contrôle U+0001 interdit (position 4)"),
        (OrganisationCreate, {"name": "Tab\tName"}, "U+0009"),
        (OrganisationCreate, {"name": "C1\x85"}, "U+0085"),
        (OrganisationCreate, {"name": "nul\x00"}, "U+0000"),
        (OrganisationCreate, {"name": "x", "declared_headcount": 10**30}, "hors limites"),
        (ClusterCreate, {"name": "x", "description": "a\x1bb"}, "U+001B"),
        (ClusterCreate, {"name": "x", "founded": 1799}, "année hors limites : 1799"),
        (UserCreate, {"email": "a@b.fr", "role": "manager", "clusters": [17814974899458158407083622400]},
         "attendu de 1 à 2147483647"),
        (MembershipCreate, {"organisation_id": 1, "joined": "0001-01-01"}, "hors limites : 0001-01-01"),
        (PaymentIn, {"amount_eur": "100", "paid_on": "9999-12-31"}, "date hors limites : 9999-12-31"),
        (PaymentIn, {"amount_eur": "1e30", "paid_on": "2024-01-01"}, "montant trop grand"),
        (PaymentIn, {"amount_eur": "0.001", "paid_on": "2024-01-01"}, "au plus 2 décimales"),
    ],
)
def test_out_of_bounds_values_are_refused_in_french(
    model: type[BaseModel], values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(values)
    assert message in str(caught.value)


def test_multiline_text_keeps_its_line_breaks() -> None:
    assert ClusterCreate(name="x", description="a\r\nb\tc").description == "a\r\nb\tc"


def test_date_rules() -> None:
    today = dt.date(2024, 2, 29)
    assert bounds.PAST.problem(today, today) is None
    assert bounds.PAST.problem(dt.date(2024, 3, 1), today) is not None
    assert bounds.PAST.problem(dt.date(1899, 12, 31), today) is not None
    assert bounds.PLANNED.latest(today) == dt.date(2034, 2, 28)
    assert bounds.ACCOUNTING.problem(2034, today) is None
    assert bounds.ACCOUNTING.problem(2035, today) is not None
    assert bounds.FOUNDED.problem(2025, today) is not None


# --- member import --------------------------------------------------------------------------


def _no_fabric(_sirets: object, _sirens: object) -> dict[str, dict[str, Any]]:
    return {}


def test_import_reports_out_of_bounds_rows_and_keeps_the_good_ones(
    db: Any, world: World, tmp_path: Path
) -> None:
    today = dt.date(2025, 6, 30)
    rows = [
        "siren;nom;date_adhesion;type_adhesion",
        f"{siren(7001)};Bonne;2024-01-10;adherent",  # 2 good
        f"{siren(7002)};{'N' * 100_000};2024-01-10;adherent",  # 3 too long
        f"{siren(7003)};Mauvais\x01Nom;2024-01-10;adherent",  # 4 control character
        f"{siren(7004)};Ancienne;0001-01-01;adherent",  # 5 before 1900
        f"{siren(7005)};Future;2025-07-01;adherent",  # 6 after today
        f"{siren(7006)};Type;2024-01-10;{'t' * 61}",  # 7 type too long
        f"{siren(7007)};Aussi bonne;1900-01-01;adherent",  # 8 good (first day allowed)
    ]
    path = tmp_path / "m.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = member_files.import_members(
        db, LOCAL_ADMIN, world.a, path, lookup=_no_fabric, today=today
    )
    issues = {i.line: i for i in report.issues}
    assert sorted(issues) == [3, 4, 5, 6, 7]
    assert (issues[3].column, issues[3].reason) == (
        "nom",
        "trop long : 100000 caractères, 300 au plus",
    )
    assert len(issues[3].value or "") < 100  # the report quotes the value, cut
    assert (issues[4].column, issues[4].reason) == (
        "nom",
        "caractère de contrôle U+0001 interdit (position 8)",
    )
    assert issues[4].value == "Mauvais\\x01Nom"
    assert issues[5].reason == bounds.PAST.problem(dt.date(1, 1, 1), today)
    assert issues[6].reason == bounds.PAST.problem(dt.date(2025, 7, 1), today)
    assert issues[7].column == "type_adhesion"
    assert report.inserted == 2
    assert report.committed
    ours = [siren(n) for n in range(7001, 7008)]
    names = set(db.scalars(select(Organisation.name).where(Organisation.siren.in_(ours))))
    assert names == {"Bonne", "Aussi bonne"}


def test_import_reads_windows_1252(db: Any, world: World, tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(f"siren;nom;date_adhesion\n{siren(7101)};Œuvres d’art;2024-01-10\n".encode("cp1252"))
    report = member_files.import_members(db, LOCAL_ADMIN, world.a, path, lookup=_no_fabric)
    assert report.issues == []
    assert report.inserted == 1
    assert db.scalar(select(Organisation.name).where(Organisation.siren == siren(7101))) == "Œuvres d’art"


# --- payments -------------------------------------------------------------------------------


def _call(session: Any, world: World, amount: str = "100") -> int:
    fees.set_schedule(
        session,
        LOCAL_ADMIN,
        world.a,
        FeeScheduleIn(year=2024, rules=[{"membership_type": "adherent", "amount_eur": amount}]),  # type: ignore[list-item]
    )
    fees.issue_calls(session, LOCAL_ADMIN, world.a, 2024, issued_on=dt.date(2024, 1, 15))
    return fees.list_calls(session, LOCAL_ADMIN, world.a)[0].id


def _pay(session: Any, call: int, amount: str) -> Any:
    return fees.record_payment(
        session, LOCAL_ADMIN, call, PaymentIn(amount_eur=Decimal(amount), paid_on=dt.date(2024, 2, 1))
    )


def test_overpayment_is_refused_with_what_remains(db: Any, world: World) -> None:
    call = _call(db, world)
    with pytest.raises(InputError) as caught:
        _pay(db, call, "1500")
    assert str(caught.value) == (
        f"paiement de 1500 € refusé : l'appel {call} demande 100.00 €, déjà payé 0.00 €, "
        "reste dû 100.00 €"
    )
    assert _pay(db, call, "60").paid_eur == Decimal("60.00")
    with pytest.raises(InputError, match=r"reste dû 40\.00 €"):
        _pay(db, call, "40.01")
    assert _pay(db, call, "40").status.value == "paid"
    with pytest.raises(InputError, match="déjà réglé"):
        _pay(db, call, "0.01")
    assert db.scalar(select(Payment.amount_eur).where(Payment.fee_call_id == call).limit(1)) == Decimal(60)


def test_concurrent_payments_never_both_pass(fresh: Database) -> None:
    with session_scope(fresh.engine, actor=LOCAL_ADMIN) as session:
        call = _call(session, build_world(session))
    outcome: dict[str, BaseException | None] = {}
    second_started = threading.Event()

    def second() -> None:
        try:
            with session_scope(fresh.engine, actor=LOCAL_ADMIN) as other:
                # Reads the call before the first payment commits (SQLite), or waits for
                # its lock (PostgreSQL).
                second_started.set()
                _pay(other, call, "60")
            outcome["second"] = None
        except BaseException as exc:
            outcome["second"] = exc

    with session_scope(fresh.engine, actor=LOCAL_ADMIN) as session:
        _pay(session, call, "60")  # flushed: the call is locked (PostgreSQL) until commit
        thread = threading.Thread(target=second)
        thread.start()
        second_started.wait(10)
        thread.join(0.5)  # let the second one reach the lock
    thread.join(30)
    assert not thread.is_alive()
    loser = outcome["second"]
    if fresh.backend == "postgres":
        # It waited for the lock, then read the first payment: refused with what remains.
        assert isinstance(loser, InputError)
        assert "reste dû 40.00 €" in str(loser)
    else:
        # SQLite: refused by the check or, having read before the commit, by the database.
        assert isinstance(loser, InputError | ConflictError | OperationalError), loser
    with session_scope(fresh.engine) as session:
        paid = list(session.scalars(select(Payment.amount_eur).where(Payment.fee_call_id == call)))
        assert paid == [Decimal("60.00")]
        assert session.get(FeeCall, call).status == "due"  # type: ignore[union-attr]


# --- the CLI never shows a database traceback ----------------------------------------------


def _url(db: Database) -> str:
    if db.backend == "sqlite":
        return f"sqlite:///{db.path}"
    assert PG_URL
    assert db.schema
    return f"{PG_URL}?options=-csearch_path%3D{db.schema},public"


def _cli(db: Database, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"GRAPPE_DATABASE_URL": _url(db)}
    return subprocess.run(
        [sys.executable, "-m", "grappe", "registry", *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )


def test_cli_uses_the_same_date_rule(monkeypatch: pytest.MonkeyPatch, fresh: Database) -> None:
    monkeypatch.setenv("GRAPPE_DATABASE_URL", _url(fresh))
    get_settings.cache_clear()
    result = CliRunner().invoke(cli_app, ["registry", "pay", "1", "10", "--date", "9999-12-31"])
    assert isinstance(result.exception, InputError)
    assert bounds.PAST.problem(dt.date(9999, 12, 31)) in str(result.exception)  # type: ignore[operator]
    result = CliRunner().invoke(cli_app, ["registry", "create", "X", "--founded", "1700"])
    assert isinstance(result.exception, InputError)
    assert "année hors limites : 1700, attendue de 1800 à" in str(result.exception)


def _one_french_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_cli_database_refusal_is_one_french_line(fresh: Database, tmp_path: Path) -> None:
    with session_scope(fresh.engine, actor=LOCAL_ADMIN) as session:
        build_world(session)
    # An id no column holds: PostgreSQL's DataError, SQLite's OverflowError.
    line = _one_french_line(_cli(fresh, "pay", "99999999999999999999", "10"))
    assert line == f"Erreur : {bounds.DATABASE_REFUSAL}"
    if fresh.backend == "postgres":
        # A column narrower than the model (a database behind the code): text refused.
        with fresh.engine.begin() as conn:
            conn.execute(
                text("ALTER TABLE organisations ALTER COLUMN name TYPE varchar(20) USING left(name, 20)")
            )
        path = tmp_path / "m.csv"
        path.write_text(
            f"siren;nom;date_adhesion\n{siren(7201)};Alphabet et compagnie réunis;2024-01-10\n",
            encoding="utf-8",
        )
        line = _one_french_line(_cli(fresh, "import", "MECA", str(path)))
        assert line == f"Erreur : {bounds.DATABASE_REFUSAL}"


def test_readme_states_the_bounds_of_the_code() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("**Bounds of input**")[1].split("\n- **")[0]
    assert f"from {bounds.EARLIEST_DATE.isoformat()} to today" in section
    assert f"{bounds.AHEAD_YEARS} years after today" in section
    assert f"current year + {bounds.AHEAD_YEARS}" in section
    assert f"from {bounds.FOUNDED.earliest} to the current year" in section
    assert f"a name: {Organisation.__table__.c.name.type.length} characters" in section
    assert f"NUMERIC({FeeCall.__table__.c.amount_eur.type.precision}, " in section


def test_cli_fee_schedule_out_of_bounds_is_one_line(
    monkeypatch: pytest.MonkeyPatch, fresh: Database, tmp_path: Path
) -> None:
    monkeypatch.setenv("GRAPPE_DATABASE_URL", _url(fresh))
    get_settings.cache_clear()
    path = tmp_path / "bareme.json"
    path.write_text('{"year": 2999, "rules": [{"membership_type": "adherent", "amount_eur": "1e40"}]}')
    result = CliRunner().invoke(cli_app, ["registry", "fee-schedule", "1", str(path)])
    assert isinstance(result.exception, InputError)
    message = str(result.exception)
    assert "\n" not in message
    assert "champ year (2999) : année hors limites : 2999" in message
    assert "champ rules[1].amount_eur ('1e40') : montant trop grand" in message


def test_every_payment_moves_the_call_version(db: Any, world: World) -> None:
    # The version is what makes the later of two racing payments fail where no row lock exists.
    call = _call(db, world)
    before = db.get(FeeCall, call).version
    _pay(db, call, "10")
    assert db.get(FeeCall, call).version == before + 1
