"""The pure parts of the stored calls: eligibility, conflicts, affinity, normalisation, attachments."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from grappe.calls import documents, eligibility, review
from grappe.calls.eligibility import ApplicantFacts, PartnerFacts
from grappe.errors import InputError


def firm(n: int, sme: bool | None, region: str | None = "84") -> PartnerFacts:
    return PartnerFacts(n, f"Firme {n}", True, sme, region)


def test_sme_share_counts_unknown_sizes_as_not_sme() -> None:
    facts = ApplicantFacts(
        "cluster", "MECA", members=(firm(1, True), firm(2, None), firm(3, False), firm(4, True))
    )
    (verdict,) = eligibility.evaluate([{"rule": "min_sme_share", "min": 0.5}], facts)
    assert verdict.ok
    assert verdict.reason == (
        "2 PME sur 4 adhérents, soit 50 %"
        " (1 de taille inconnue, non comptée(s) comme PME) ; minimum requis : 50 %"
    )
    (short,) = eligibility.evaluate([{"rule": "min_sme_share", "min": 0.6}], facts)
    assert not short.ok


def test_consortium_region_is_its_coordinators() -> None:
    facts = ApplicantFacts("consortium", "C", partners=(firm(1, True, "53"), firm(2, True, "84")))
    (verdict,) = eligibility.evaluate([{"rule": "region", "code": "84"}], facts)
    assert not verdict.ok
    assert verdict.reason == "région du chef de file : 53 ; requise : 84"


def test_rules_are_normalised_and_checked() -> None:
    assert eligibility.parse_rules('[{"rule": "region", "code": 84}]', "cluster") == [
        {"rule": "region", "code": "84"}
    ]
    with pytest.raises(InputError, match=r"paramètre\(s\) inconnu\(s\) max"):
        eligibility.parse_rules([{"rule": "min_members", "min": 2, "max": 3}], "cluster")
    with pytest.raises(InputError, match="JSON invalide"):
        eligibility.parse_rules("[{", "cluster")


def test_conflicts_and_their_reasons() -> None:
    side = review.ApplicantSide(
        7, frozenset({1, 2}), cluster_members=frozenset({3}), sirens=frozenset({"123456782"})
    )
    cases = {
        review.ReviewerSide(1, 2): "partenaire",
        review.ReviewerSide(2, 3): "adhérente",
        review.ReviewerSide(3, 9, co_partners=frozenset({1})): "projet récent",
        review.ReviewerSide(4, 9, sirens=frozenset({"123456782"})): "SIREN",
        review.ReviewerSide(5, None, declared=frozenset({7})): "déclaré",
    }
    for reviewer, word in cases.items():
        assert word in (review.conflict_reason(reviewer, side) or ""), reviewer
    assert review.conflict_reason(review.ReviewerSide(6, 9), side) is None


def test_affinity_matches_tag_prefixes_and_keywords_without_accents() -> None:
    application = review.ApplicantSide(1, frozenset(), tags=("25.62A", "28"), keywords=("Décolletage",))
    reviewer = review.ReviewerSide(1, None, tags=("25",), keywords=("decolletage",))
    assert review.affinity(reviewer, application) == pytest.approx((1 + 0.5) / (2 + 0.5))
    assert review.affinity(review.ReviewerSide(2, None), application) == 0.0


def test_normalisation_removes_a_reviewers_severity() -> None:
    # reviewer 1 marks everything 4 points below reviewer 2, on the same two applications
    totals = {(1, 10): 8.0, (1, 11): 12.0, (2, 10): 12.0, (2, 11): 16.0}
    fair = review.normalise(totals, 20)
    assert fair[(1, 10)] == pytest.approx(fair[(2, 10)])
    assert fair[(1, 11)] == pytest.approx(fair[(2, 11)])
    assert statistics.fmean(fair.values()) == pytest.approx(statistics.fmean(totals.values()))
    marks = review.summarise(totals, [10, 11, 12], threshold=3.0)
    assert marks[10].flagged
    assert marks[10].spread == 4.0
    assert marks[12].score is None
    assert not review.summarise(fair, [10], threshold=3.0)[10].flagged


def test_a_reviewer_with_one_review_keeps_its_total() -> None:
    totals = {(1, 10): 5.0, (2, 10): 15.0, (2, 11): 9.0}
    assert review.normalise(totals, 20)[(1, 10)] == 5.0


def test_attachments_never_use_the_users_path(tmp_path: Path) -> None:
    stored = documents.store(tmp_path, b"%PDF-1.7 x", "../../../etc/passwd.pdf")
    assert stored.filename == "passwd.pdf"
    assert documents.path_of(tmp_path, stored.sha256).parent.parent == tmp_path / "calls" / "documents"
    assert documents.load(tmp_path, stored.sha256) == b"%PDF-1.7 x"
    with pytest.raises(InputError, match="au-delà du maximum"):
        documents.check(b"%PDF-" + b"0" * documents.MAX_BYTES, "gros.pdf")
    with pytest.raises(InputError, match="empreinte de document invalide"):
        documents.path_of(tmp_path, "../x")
    with pytest.raises(InputError, match="pas du texte UTF-8"):
        documents.check(b"\xff\xfe\x00", "budget.csv")
