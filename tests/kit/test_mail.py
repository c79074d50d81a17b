"""Mail goes through a real SMTP server when one is configured, to the outbox otherwise."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default

import pytest

from grappe.config import get_settings
from grappe.errors import MailError
from grappe.kit import mail


def test_mail_reaches_a_real_smtp_server_with_its_attachment(smtp_server) -> None:
    sent = mail.send_all(
        [
            mail.Mail(
                to=["dirigeante@example.fr"],
                subject="Votre appel de cotisation 2026",
                body="Bonjour,\nvous trouverez ci-joint votre appel de cotisation : 1 250,00 €.",
                attachments=[mail.Attachment("appel.pdf", b"%PDF-1.7 test", "application/pdf")],
            ),
            mail.Mail(to=["b@example.fr", "c@example.fr"], subject="Réunion", body="À jeudi."),
        ]
    )
    assert sent == 2
    first, second = smtp_server.wait_for(2)
    assert first["Subject"] == "Votre appel de cotisation 2026"
    assert "1 250,00 €" in first.get_body(("plain",)).get_content()
    (attachment,) = list(first.iter_attachments())
    assert attachment.get_filename() == "appel.pdf"
    assert attachment.get_content() == b"%PDF-1.7 test"
    assert second["To"] == "b@example.fr, c@example.fr"
    assert not mail.outbox()  # nothing written aside when the server took it


def test_without_smtp_server_mail_is_kept_in_the_outbox() -> None:
    assert get_settings().smtp_host is None
    mail.send(mail.Mail(to=["x@example.fr"], subject="Réinitialisation", body="Lien : …"))
    (path,) = mail.outbox()
    assert path.parent == get_settings().outbox_dir
    parsed = message_from_bytes(path.read_bytes(), policy=default)
    assert parsed["Subject"] == "Réinitialisation"
    assert mail.send_all([mail.Mail(to=[], subject="personne", body="")]) == 0
    assert len(mail.outbox()) == 1


def test_an_unreachable_server_is_a_french_mail_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPPE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GRAPPE_SMTP_PORT", "9")  # discard port: nothing listens
    get_settings.cache_clear()
    with pytest.raises(MailError, match="n'a pas accepté le message"):
        mail.send(mail.Mail(to=["x@example.fr"], subject="s", body="b"))


def test_a_wording_is_written_in_the_language_asked() -> None:
    greeting = mail.Wording(fr="Bonjour {name},", en="Hello {name},")
    assert greeting("fr", name="Anne") == "Bonjour Anne,"
    assert greeting("en", name="Anne") == "Hello Anne,"
    with pytest.raises(ValueError, match="'de'"):
        greeting("de", name="Anne")


def test_recipients_are_split_by_language_each_address_once() -> None:
    pairs = [("b@x.fr", "en"), ("c@x.fr", "fr"), ("a@x.fr", "en"), ("b@x.fr", "fr")]
    assert mail.by_language(pairs) == {"fr": ["c@x.fr"], "en": ["a@x.fr", "b@x.fr"]}
    assert mail.by_language([]) == {}
