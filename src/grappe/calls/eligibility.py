"""The eligibility rules of a call, written declaratively, and their evaluation with French reasons.

A call's rules are a JSON list; each rule is an object whose ``rule`` names it, with its
parameters. Every rule must hold for an application to be eligible. The rules:

=================  ==========================================  =================================
``rule``           parameters                                  holds when
=================  ==========================================  =================================
``min_members``    ``min`` (integer ≥ 1)                       the applicant cluster has at least
                                                               ``min`` current members
``min_sme_share``  ``min`` (0 to 1)                            at least this share of the cluster's
                                                               current members (of a consortium's
                                                               firms) are SMEs (TPE or PME)
``region``         ``code`` (a région code of the COG)         the cluster has a territory in the
                                                               région (a consortium: its
                                                               coordinator's commune is there)
``min_firms``      ``min`` (integer ≥ 1)                       the consortium counts at least
                                                               ``min`` firms among its partners
``min_smes``       ``min`` (integer ≥ 1)                       the consortium counts at least
                                                               ``min`` SMEs among its partners
=================  ==========================================  =================================

Example — a cluster of at least 10 members, 60 % of them SMEs, in Auvergne-Rhône-Alpes::

    [{"rule": "min_members", "min": 10}, {"rule": "min_sme_share", "min": 0.6},
     {"rule": "region", "code": "84"}]

and a consortium of at least two firms including one SME::

    [{"rule": "min_firms", "min": 2}, {"rule": "min_smes", "min": 1}]

A firm's size category is its recorded one (``TPE``, ``PME``, ``ETI``, ``GE``), else the one
its declared headcount gives, else its headcount band's; a firm of unknown size does not count
as an SME (the reason says how many were unknown). The module holds no SQL: the service
gathers the :class:`ApplicantFacts` from the registry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from grappe.errors import InputError

SME_CATEGORIES: Final = frozenset({"TPE", "PME"})


@dataclass(frozen=True)
class PartnerFacts:
    """What the rules read of one organisation of an application."""

    organisation_id: int
    name: str
    firm: bool
    sme: bool | None  # None: size unknown
    region: str | None


@dataclass(frozen=True)
class ApplicantFacts:
    """What the rules read of an applicant: a cluster (its members) or a consortium (its partners)."""

    kind: str  # "cluster" or "consortium"
    name: str
    members: tuple[PartnerFacts, ...] = ()  # a cluster's current members
    regions: frozenset[str] = frozenset()  # a cluster's territories' régions
    partners: tuple[PartnerFacts, ...] = ()  # a consortium's partners, the coordinator first


@dataclass(frozen=True)
class Verdict:
    """One rule's answer: does it hold, and why (French)."""

    rule: str
    ok: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "ok": self.ok, "reason": self.reason}


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{where} : « min » doit être un entier ≥ 1 (reçu {value!r})")
    return value


def _share(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InputError(f"{where} : « min » doit être une part entre 0 et 1 (reçu {value!r})")
    return float(value)


def _region(value: Any, where: str) -> str:
    from grappe.registry.refs import normalize_territory

    if not isinstance(value, str | int):
        raise InputError(f"{where} : « code » doit être un code de région (reçu {value!r})")
    try:
        return normalize_territory("region", str(value))[0]
    except InputError as exc:
        raise InputError(f"{where} : {exc}") from None


#: Rule name -> (parameter, its check, the applicant kinds it applies to).
RULES: Final[Mapping[str, tuple[str, Callable[[Any, str], Any], frozenset[str]]]] = {
    "min_members": ("min", _count, frozenset({"cluster"})),
    "min_sme_share": ("min", _share, frozenset({"cluster", "consortium"})),
    "region": ("code", _region, frozenset({"cluster", "consortium"})),
    "min_firms": ("min", _count, frozenset({"consortium"})),
    "min_smes": ("min", _count, frozenset({"consortium"})),
}


def parse_rules(raw: str | Sequence[Any], applicant_kind: str) -> list[dict[str, Any]]:
    """Check a call's rules (JSON text or a list) and return them normalised.

    Raises
    ------
    InputError
        Not a list of objects, an unknown rule, a missing or bad parameter, or a rule that does
        not apply to the call's applicants; the message names the rule's position.
    """
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else []
        except json.JSONDecodeError as exc:
            raise InputError(
                f"règles d'éligibilité : JSON invalide ({exc.msg}, ligne {exc.lineno})"
            ) from None
    if not isinstance(raw, list):
        raise InputError("règles d'éligibilité : une liste d'objets est attendue")
    rules: list[dict[str, Any]] = []
    for position, item in enumerate(raw, start=1):
        where = f"règle {position}"
        if not isinstance(item, dict) or "rule" not in item:
            raise InputError(f"{where} : un objet avec « rule » est attendu (reçu {item!r})")
        name = item["rule"]
        if name not in RULES:
            raise InputError(f"{where} : règle {name!r} inconnue ; règles connues : {', '.join(RULES)}")
        where = f"règle {position} ({name})"
        parameter, check, kinds = RULES[name]
        if applicant_kind not in kinds:
            raise InputError(f"{where} : ne s'applique pas aux candidatures de type {applicant_kind}")
        extra = set(item) - {"rule", parameter}
        if extra:
            raise InputError(f"{where} : paramètre(s) inconnu(s) {', '.join(sorted(extra))}")
        if parameter not in item:
            raise InputError(f"{where} : paramètre « {parameter} » manquant")
        rules.append({"rule": name, parameter: check(item[parameter], where)})
    return rules


def _percent(share: float) -> str:
    return f"{share * 100:.1f}".replace(".", ",").removesuffix(",0") + " %"


def _smes(group: Sequence[PartnerFacts]) -> tuple[int, int]:
    """SMEs and firms of unknown size in a group."""
    return sum(1 for p in group if p.sme), sum(1 for p in group if p.sme is None)


def _unknown(unknown: int) -> str:
    return f" ({unknown} de taille inconnue, non comptée(s) comme PME)" if unknown else ""


def evaluate(rules: Sequence[Mapping[str, Any]], facts: ApplicantFacts) -> list[Verdict]:
    """Each rule's verdict on an applicant, in the rules' order."""
    return [_one(rule, facts) for rule in rules]


def _one(rule: Mapping[str, Any], facts: ApplicantFacts) -> Verdict:
    name = rule["rule"]
    if name == "min_members":
        n, need = len(facts.members), rule["min"]
        return Verdict(name, n >= need, f"la structure compte {n} adhérent(s) ; minimum requis : {need}")
    if name == "min_sme_share":
        group = facts.members if facts.kind == "cluster" else tuple(p for p in facts.partners if p.firm)
        what = "adhérents" if facts.kind == "cluster" else "entreprises partenaires"
        smes, unknown = _smes(group)
        share = smes / len(group) if group else 0.0
        return Verdict(
            name,
            bool(group) and share >= rule["min"],
            f"{smes} PME sur {len(group)} {what}, soit {_percent(share)}{_unknown(unknown)} ; "
            f"minimum requis : {_percent(rule['min'])}",
        )
    if name == "region":
        code = rule["code"]
        if facts.kind == "cluster":
            shown = ", ".join(sorted(facts.regions)) or "aucune"
            return Verdict(
                name,
                code in facts.regions,
                f"région(s) des territoires de la structure : {shown} ; requise : {code}",
            )
        lead = facts.partners[0] if facts.partners else None
        where = lead.region if lead is not None and lead.region else "inconnue"
        return Verdict(name, where == code, f"région du chef de file : {where} ; requise : {code}")
    if name == "min_firms":
        firms, need = sum(1 for p in facts.partners if p.firm), rule["min"]
        return Verdict(
            name, firms >= need, f"le consortium compte {firms} entreprise(s) ; minimum requis : {need}"
        )
    if name == "min_smes":
        smes, unknown = _smes([p for p in facts.partners if p.firm])
        need = rule["min"]
        return Verdict(
            name,
            smes >= need,
            f"le consortium compte {smes} PME{_unknown(unknown)} ; minimum requis : {need}",
        )
    raise InputError(f"règle {name!r} inconnue")
