"""`grappe calls call|application|reviewer|selection` through CliRunner: French output, exit statuses."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from grappe.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["calls", *args])
    return result.exit_code, result.output


def spec(path: Path, **changes: Any) -> Path:
    today = dt.datetime.now(dt.UTC)
    data: dict[str, Any] = {
        "title": "Grappes d'entreprises",
        "funder": "DATAR",
        "budget_eur": "2000000",
        "opens_on": (today - dt.timedelta(days=1)).date().isoformat(),
        "closes_at": (today + dt.timedelta(days=60)).isoformat(),
        "applicant_kind": "cluster",
        "rules": [{"rule": "min_members", "min": 10}],
        "criteria": [{"name": "Stratégie", "weight": "0.5"}, {"name": "Services", "weight": "0.5"}],
    }
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_call_create_publish_list_show(tmp_path: Path) -> None:
    code, out = run("call", "create", "--spec", str(spec(tmp_path / "appel.json")))
    assert code == 0, out
    assert "Appel à projets n° 1 créé : Grappes d'entreprises" in out
    code, out = run("call", "publish", "1")
    assert code == 0, out
    code, out = run("call", "list")
    assert code == 0, out
    assert "Grappes d'entreprises" in out
    code, out = run("call", "show", "1")
    assert code == 0, out
    assert '"min_members"' in out


def test_bad_input_is_one_french_line_and_exit_2(tmp_path: Path) -> None:
    bad = spec(
        tmp_path / "appel.json", criteria=[{"name": "A", "weight": "0.7"}, {"name": "B", "weight": "0.2"}]
    )
    code, out = run("call", "create", "--spec", str(bad))
    assert code == 2
    assert "les poids font 0.9 au lieu de 1" in out
    code, out = run("call", "create", "--spec", str(spec(tmp_path / "r.json", rules=[{"rule": "taille"}])))
    assert code == 2
    assert "règle 'taille' inconnue" in out
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    code, out = run("call", "create", "--spec", str(tmp_path / "broken.json"))
    assert code == 2
    assert "JSON illisible" in out
    code, out = run("call", "show", "99")
    assert code == 2
    assert "appel à projets 99 introuvable" in out


def test_public_sees_no_draft_and_reviewer_pool_is_for_funders(tmp_path: Path) -> None:
    assert run("call", "create", "--spec", str(spec(tmp_path / "appel.json")))[0] == 0
    code, out = run("call", "--as", "public", "show", "1")
    assert code == 2
    assert "introuvable" in out
    code, out = run("reviewer", "--as", "public", "list")
    assert code == 2
    assert "accès refusé" in out
    code, out = run("reviewer", "list")
    assert code == 0, out
