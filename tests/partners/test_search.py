"""The partner search's core: French analysis, the score's components and their French reasons."""

from __future__ import annotations

import numpy as np
import pytest

from grappe.errors import InputError
from grappe.partners.search import (
    WEIGHTS,
    FrenchAnalyzer,
    Need,
    Organisation,
    PartnerIndex,
    SectorRelatedness,
    Tie,
    Weights,
)

LYON = (842_000.0, 6_519_000.0)  # Lambert-93 metres
VILLEURBANNE = (846_000.0, 6_521_000.0)  # 4.5 km east
SAINT_ETIENNE = (808_000.0, 6_482_000.0)  # about 50 km


def world() -> list[Organisation]:
    return [
        Organisation(1, "Usinage Martin", "firm", "usinage de pièces pour l'aéronautique",
                     naf="25.62B", naf_label="Mécanique industrielle", departement="69", position=LYON),
        Organisation(2, "Méca Villeurbanne", "firm", "nous savons usiner des pièces en titane",
                     naf="25.62A", naf_label="Décolletage", departement="69", position=VILLEURBANNE),
        Organisation(3, "Aciéries du Forez", "firm", "acier spécial", naf="24.10Z",
                     naf_label="Sidérurgie", departement="42", position=SAINT_ETIENNE),
        Organisation(4, "Laboratoire des matériaux", "research_lab", "recherche sur les alliages",
                     departement="69", clusters=frozenset({7})),
        Organisation(5, "Boulangerie Dupont", "firm", "pain et viennoiseries", naf="10.71C",
                     naf_label="Boulangerie", departement="75"),
    ]


def index(**options: object) -> PartnerIndex:
    ties = [Tie(1, 4), Tie(2, 4), Tie(3, 4), Tie(1, 3), Tie(1, 3)]
    return PartnerIndex(world(), ties, value_chain=[("24", "25")], **options)  # type: ignore[arg-type]


def by_id(need: Need, top: int = 5, **options: object) -> dict[int, tuple[str, ...]]:
    return {s.organisation: s.reasons for s in index(**options).search(need, top)}


def test_french_stemming_joins_a_noun_of_action_to_its_verb_and_folds_accents() -> None:
    analyzer = FrenchAnalyzer()
    assert analyzer.terms("usinage") == analyzer.terms("usiner") == analyzer.terms("usinés")
    assert analyzer.terms("Aéronautique") == analyzer.terms("aeronautique")
    assert analyzer.terms("le la les des et pour 2015 4e") == []
    assert analyzer.terms("emballage") == analyzer.terms("emballer")


def test_a_free_text_need_finds_the_verb_for_the_noun() -> None:
    found = index().search(Need(text="usinage"), 5)
    assert [s.organisation for s in found] == [1, 2]  # the others have none of its words
    assert "mots en commun : usinage" in found[1].reasons


def test_reasons_say_past_work_shared_partners_value_chain_and_distance() -> None:
    reasons = by_id(Need(organisation=1))
    assert "a déjà travaillé avec Usinage Martin" in reasons[3]
    assert "même chaîne de valeur : Mécanique industrielle ↔ Sidérurgie" in reasons[3]
    assert "à 50 km" in reasons[3]
    assert "1 partenaire en commun : Laboratoire des matériaux" in reasons[2]
    assert "même division NAF : Décolletage" in reasons[2]
    assert "à 4 km" in reasons[2]
    assert any(r.startswith("mots en commun : pièces") for r in reasons[2])
    assert "actif dans le réseau : 3 partenaires" in reasons[4]
    assert 1 not in reasons  # never oneself


def test_same_departement_stands_for_distance_when_a_position_is_missing() -> None:
    reasons = by_id(Need(organisation=4))
    assert "même département (69)" in reasons[1]
    assert not any("km" in r or "département" in r for r in reasons[5])


def test_relatedness_from_a_fabric_replaces_the_division_rule() -> None:
    matrix = np.array([[1.0, 0.2, 0.0], [0.2, 1.0, 0.7], [0.0, 0.7, 1.0]])
    related = SectorRelatedness(["24", "25", "10"], matrix)
    reasons = by_id(Need(organisation=1), relatedness=related)
    assert "secteur apparenté : Boulangerie (proximité 0,70)" in reasons[5]
    assert not any("chaîne de valeur" in r for r in reasons[3])


def test_filters_and_scope_keep_only_what_they_allow() -> None:
    assert set(by_id(Need(organisation=1, kinds=("research_lab",)))) == {4}
    assert set(by_id(Need(organisation=1, territories=("42", "75")))) == {3, 5}
    assert set(by_id(Need(organisation=1, sectors=("25",)))) == {2}
    assert set(by_id(Need(organisation=1, among=frozenset({4, 5})))) == {4, 5}
    assert by_id(Need(organisation=1, kinds=("public_body",))) == {}


def test_scores_are_weighted_components_between_0_and_1_and_reproducible() -> None:
    first = index().search(Need(organisation=1, text="titane"), 5)
    assert first == index().search(Need(organisation=1, text="titane"), 5)
    assert all(0.0 <= s.score <= 1.0 for s in first)
    assert [s.score for s in first] == sorted((s.score for s in first), reverse=True)
    text_only = Weights(1.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert index(weights=text_only).search(Need(organisation=1, text="titane"), 1)[0].organisation == 2


def test_weights_and_needs_are_checked() -> None:
    assert sum(vars(WEIGHTS).values()) == pytest.approx(1.0)
    with pytest.raises(InputError, match="somme 1"):
        Weights(0.5, 0.5, 0.5, 0.0, 0.0, 0.0)
    with pytest.raises(InputError, match="recherche vide"):
        index().search(Need(text="  "))
    with pytest.raises(InputError, match="absente"):
        index().search(Need(organisation=99))
    with pytest.raises(InputError, match="identifiants en double"):
        PartnerIndex([*world(), world()[0]])
