"""Every string of the web application is in each catalogue, translated, and the .mo is up to date."""

from __future__ import annotations

import gettext
import io

import pytest

from grappe.web import catalogue, i18n

TRANSLATED = [language for language in i18n.LANGUAGES if language != i18n.DEFAULT]


def _key(message_id: str | tuple[str, ...]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_extracted_string_is_translated(language: str) -> None:
    extracted = {_key(m.id) for m in catalogue.extract() if m.id}
    assert len(extracted) > 50  # the extraction found the templates and the code
    stored = catalogue.read(language)
    missing = sorted(k for k in extracted if k not in stored or not stored[k].string)
    assert not missing, f"strings missing from {language}: {missing} (run python -m grappe.web.catalogue)"
    untranslated_plural = [
        _key(m.id) for m in stored if isinstance(m.id, tuple) and not all(m.string)
    ]
    assert not untranslated_plural
    gone = sorted(_key(m.id) for m in stored if m.id and _key(m.id) not in extracted)
    assert not gone, f"strings no longer used, still in {language}: {gone}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_agree_between_source_and_translation(language: str) -> None:
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalogue.read(language).check() if errors]
    assert not problems


@pytest.mark.parametrize("language", TRANSLATED)
def test_compiled_catalogue_matches_the_po(language: str) -> None:
    shipped = catalogue.po_path(language).with_suffix(".mo").read_bytes()
    fresh = gettext.GNUTranslations(io.BytesIO(catalogue.compiled(catalogue.read(language))))
    loaded = gettext.GNUTranslations(io.BytesIO(shipped))
    for message in catalogue.read(language):
        if message.id and isinstance(message.id, str):
            assert loaded.gettext(message.id) == fresh.gettext(message.id) == message.string
