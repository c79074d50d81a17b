"""The presentation layer: French by default, English on request, a label for every category."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

import pytest

from grappe.kit import present
from grappe.registry import models


def test_french_by_default() -> None:
    assert present.number(14550) == "14\u202f550"
    assert present.money(Decimal("14550")) == "14\u202f550,00\xa0€"
    assert present.percent(0.111) == "11,1\xa0%"
    assert present.decimal(0.77251, 4) == "0,7725"
    assert present.date(dt.date(2026, 12, 2)) == "2 décembre 2026"
    assert present.label("fee_status", models.FeeStatus.PAID) == "payé"


def test_english_available() -> None:
    english = present.Formatter("en")
    assert english.number(14550) == "14,550"
    assert english.money(Decimal("14550")) == "€14,550.00"
    assert english.percent(0.111) == "11.1%"
    assert english.date(dt.date(2026, 12, 2)) == "2 December 2026"
    assert english.label("organisation_kind", "research_lab") == "research lab"


def test_missing_values_and_unknown_codes() -> None:
    assert present.number(None) == present.MISSING
    assert present.decimal(float("nan"), 2) == present.MISSING
    assert present.percent(None) == present.MISSING
    assert present.money(None) == present.MISSING
    assert present.label("membership_type", "associe") == "associe"  # free text stays as typed
    assert present.coded("69123", "Lyon") == "69123 (Lyon)"
    assert present.coded("99999", None) == "99999"
    with pytest.raises(ValueError, match="langue 'de' inconnue"):
        present.Formatter("de")


ENUMS = {
    "fee_status": models.FeeStatus,
    "fee_mode": models.FeeMode,
    "organisation_kind": models.OrganisationKind,
    "role": models.Role,
    "label_kind": models.LabelKind,
    "funding_source": models.FundingSource,
    "body_kind": models.BodyKind,
    "size_category": models.SizeCategory,
    "invitation_status": models.InvitationStatus,
    "territory_level": models.TerritoryLevel,
}


@pytest.mark.parametrize(("category", "enum"), ENUMS.items())
def test_every_registry_code_has_a_french_and_an_english_label(category: str, enum: type[StrEnum]) -> None:
    labels = present.LABELS[category]
    assert set(labels) >= {member.value for member in enum}
    for french, english in labels.values():
        assert french
        assert english


def test_every_registry_enumeration_is_labelled() -> None:
    enums = {v for v in vars(models).values() if isinstance(v, type) and issubclass(v, StrEnum)}
    enums.discard(StrEnum)
    assert enums <= set(ENUMS.values())


COOPERATION = {
    "project_status": "ProjectStatus",
    "project_kind": "ProjectKind",
    "partner_category": "PartnerCategory",
    "programme": "Programme",
    "link_kind": "LinkKind",
    "link_orientation": "Orientation",
    "link_source": "LinkSource",
    "link_state": "LinkState",
    "deal_kind": "DealKind",
}


def test_every_cooperation_code_has_its_labels_in_one_place() -> None:
    from grappe.cooperation import models as cooperation
    from grappe.cooperation import network
    from grappe.cooperation.actions import models as actions

    enums = {name: getattr(cooperation, enum) for name, enum in COOPERATION.items()}
    enums["event_kind"] = actions.EventKind
    for category, enum in enums.items():
        labels = present.LABELS[category]
        assert set(labels) == {member.value for member in enum}, category
        assert all(french and english for french, english in labels.values())
    assert set(present.LABELS["network_layer"]) == set(network.LAYERS)
    assert present.label("project_status", "drafting") == "montage"
    assert present.Formatter("en").label("link_state", "declined") == "declined"
