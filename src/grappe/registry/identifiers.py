"""Identifiers of organisations: SIREN (9 digits) and SIRET (14 digits) with the Luhn check, name keys."""

from __future__ import annotations

import functools
import re
import unicodedata

from grappe.errors import InputError

_NON_WORD = re.compile(r"[\W_]+")

# La Poste's establishments share SIREN 356000000; their SIRETs do not pass Luhn but the sum of
# their digits is a multiple of 5 (INSEE's documented exception).
LA_POSTE_SIREN = "356000000"


def luhn_ok(digits: str) -> bool:
    """True when a string of digits passes the Luhn checksum."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _compact(value: str) -> str:
    return "".join(str(value).split())


def normalize_siren(value: str) -> str:
    """Return a SIREN without spaces; raise InputError when it is not 9 digits passing Luhn."""
    siren = _compact(value)
    if len(siren) != 9 or not siren.isdigit():
        raise InputError(f"SIREN {value!r} invalide : 9 chiffres attendus")
    if not luhn_ok(siren):
        raise InputError(f"SIREN {value!r} invalide : clé de contrôle (Luhn) fausse")
    return siren


def normalize_siret(value: str) -> str:
    """Return a SIRET without spaces; raise InputError when it is not 14 digits passing Luhn."""
    siret = _compact(value)
    if len(siret) != 14 or not siret.isdigit():
        raise InputError(f"SIRET {value!r} invalide : 14 chiffres attendus")
    if siret.startswith(LA_POSTE_SIREN):
        valid = sum(int(c) for c in siret) % 5 == 0
    else:
        valid = luhn_ok(siret) and luhn_ok(siret[:9])
    if not valid:
        raise InputError(f"SIRET {value!r} invalide : clé de contrôle (Luhn) fausse")
    return siret


@functools.lru_cache(maxsize=1 << 16)  # imports fold the same few thousand names over and over
def name_key(name: str) -> str:
    """The key two spellings of one organisation's name share: no accents, case, punctuation.

    ``"Université  de Rennes-1"`` and ``"UNIVERSITE DE RENNES 1"`` give ``"universite de rennes 1"``.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_NON_WORD.sub(" ", plain.casefold()).split())
