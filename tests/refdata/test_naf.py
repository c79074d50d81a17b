"""NAF rév. 2: counts per level, spellings, errors, agreement with INSEE's structure file."""

from __future__ import annotations

import collections
import json
import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from grappe.errors import InputError, UnknownCodeError
from grappe.refdata import naf

EXPECTED = {"section": 21, "division": 88, "groupe": 272, "classe": 615, "sous-classe": 732}


def test_counts_per_level_are_exact() -> None:
    table = naf.table()
    counts = collections.Counter(table["level"].to_pylist())
    assert dict(counts) == EXPECTED
    assert table.num_rows == sum(EXPECTED.values())
    assert len(set(table["code"].to_pylist())) == table.num_rows
    assert table.schema.names == ["code", "level", "label", "parent"]
    for lvl, n in EXPECTED.items():
        assert len(naf.codes(lvl)) == n


def test_every_parent_is_one_level_up() -> None:
    rows = naf.table().to_pylist()
    level_of = {r["code"]: r["level"] for r in rows}
    for r in rows:
        if r["level"] == "section":
            assert r["parent"] is None
        else:
            up = naf.LEVELS[naf.LEVELS.index(r["level"]) - 1]
            assert level_of[r["parent"]] == up, r
            if up != "section":
                assert r["code"].startswith(r["parent"]), r


def _norm(text: str) -> str:
    text = text.replace("’", "'").replace("\u00a0", " ")
    text = re.sub(r"\s*;\s*", "; ", text)
    return " ".join(text.split()).casefold()


def test_codes_and_labels_agree_with_insee_structure(real_data: Path) -> None:
    entries = json.loads((real_data / "naf_rev2_structure_notes.json").read_text("utf-8"))
    kinds = {"section": "section", "division": "division", "groupe": "groupe",
             "classe": "classe", "sousClasse": "sous-classe"}
    titles: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    for entry in entries:
        if entry["type"] in kinds:
            titles[(kinds[entry["type"]], entry["code"])].add(_norm(entry["title"]))
    # The file mixes NAF and CPF (products) entries of the same codes; every NAF code
    # must be there with one of its titles. A few titles of the file are cut at ~40
    # characters: they must then be a prefix of ours.
    mismatches = []
    for row in naf.table().to_pylist():
        known = titles.get((row["level"], row["code"]))
        assert known, f"{row['level']} {row['code']} missing from INSEE's file"
        label = _norm(row["label"])
        if label not in known and not any(len(t) >= 30 and label.startswith(t) for t in known):
            mismatches.append((row["code"], row["label"], known))
    assert mismatches == []
    sections = {code for (lvl, code) in titles if lvl == "section"}
    sous_classes = {code for (lvl, code) in titles if lvl == "sous-classe"}
    divisions = {code for (lvl, code) in titles if lvl == "division"}
    assert sections == set(naf.codes("section"))
    assert divisions == set(naf.codes("division"))
    assert sous_classes == set(naf.codes("sous-classe"))


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("25.62A", "25.62A"), ("2562A", "25.62A"), ("25.62a", "25.62A"), ("2562a", "25.62A"),
        (" 25.62 A", "25.62A"), ("25.62", "25.62"), ("2562", "25.62"), ("25.6", "25.6"),
        ("256", "25.6"), ("25", "25"), ("C", "C"), ("c", "C"), ("01.11Z", "01.11Z"),
    ],
)
def test_normalize_accepts_usual_spellings(raw: str, canonical: str) -> None:
    assert naf.normalize(raw) == canonical


@pytest.mark.parametrize("raw", ["25.63A", "2563A", "9999", "X", "25.6A", "", "25.62AB", "2.562A"])
def test_unknown_code_is_named(raw: str) -> None:
    with pytest.raises(UnknownCodeError) as info:
        naf.normalize(raw)
    assert repr(raw) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_unknown_code_suggests_close_codes() -> None:
    with pytest.raises(UnknownCodeError, match=r"vouliez-vous dire .*25\.62A"):
        naf.normalize("25.63A")


def test_level_label_parent_ancestor() -> None:
    assert naf.level("2562a") == "sous-classe"
    assert naf.label("25.62A") == "Décolletage"
    assert naf.label("C") == "Industrie manufacturière"
    assert naf.parent("25.62A") == "25.62"
    assert naf.parent("25") == "C"
    assert naf.parent("C") is None
    assert naf.ancestor("2562A", "section") == "C"
    assert naf.ancestor("25.62A", "groupe") == "25.6"
    assert naf.ancestor("25.62", "classe") == "25.62"
    assert naf.ancestor("30.30Z", "division") == "30"
    with pytest.raises(InputError, match="ancêtre"):
        naf.ancestor("25", "classe")
    with pytest.raises(InputError, match="niveau NAF inconnu"):
        naf.ancestor("25", "sector")


def test_division_to_section_boundaries() -> None:
    expected = {"01": "A", "03": "A", "05": "B", "09": "B", "10": "C", "33": "C", "35": "D",
                "36": "E", "39": "E", "41": "F", "45": "G", "47": "G", "49": "H", "53": "H",
                "55": "I", "58": "J", "63": "J", "64": "K", "68": "L", "69": "M", "75": "M",
                "77": "N", "82": "N", "84": "O", "85": "P", "86": "Q", "88": "Q", "90": "R",
                "93": "R", "94": "S", "96": "S", "97": "T", "98": "T", "99": "U"}
    for division, section in expected.items():
        assert naf.parent(division) == section


def test_sous_classes_map_every_level() -> None:
    table = naf.sous_classes()
    assert table.num_rows == 732
    assert table.schema.names == ["code", "label", "section", "division", "groupe", "classe"]
    for column in table.schema.names:
        assert table[column].null_count == 0
    row = table.filter(pc.equal(table["code"], "22.29A")).to_pylist()[0]
    assert row == {"code": "22.29A", "label": naf.label("22.29A"), "section": "C",
                   "division": "22", "groupe": "22.2", "classe": "22.29"}


def test_accepted_forms_validate_a_column_in_duckdb() -> None:
    forms = naf.accepted_forms()
    assert forms.num_rows == 4 * 732
    assert len(set(forms["raw"].to_pylist())) == forms.num_rows
    raw = pa.table({"ape": ["25.62A", "2562A", "25.62a", "2562a", " 2562A ", "9999Z", None]})
    con = duckdb.connect()
    con.register("raw", raw)
    con.register("forms", forms)
    result = con.execute(
        "SELECT r.ape, f.code FROM raw r LEFT JOIN forms f ON trim(r.ape) = f.raw "
        "ORDER BY r.ape NULLS LAST"
    ).fetchall()
    mapped = dict(result)
    assert mapped[" 2562A "] == "25.62A"
    assert mapped["2562a"] == "25.62A"
    assert mapped["9999Z"] is None
