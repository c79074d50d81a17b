"""Mail that grappe sends (password reset, invitations, notifications), one way for every domain.

:func:`send` hands each message to the SMTP server of the settings (``GRAPPE_SMTP_HOST``…) or,
when none is configured, writes it as an ``.eml`` file to the outbox under ``GRAPPE_HOME`` so that
nothing is lost on a machine without a mail server. Domains build a :class:`Mail` and call
:func:`send` after their unit of work has committed (a refused write sends nothing).

Every mail is written in its recipients' language: a user's stored language, French for an
address that is no user (an organisation's contact); a person invited from a web page becomes a
user in the language of that page. Each mail has one :class:`Wording` per text, holding every
language, and one function that writes it for a language; :func:`by_language` splits the
recipients of a notification into one mail per language.
"""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from grappe.config import Settings, get_settings
from grappe.errors import MailError
from grappe.kit.present import LANGUAGES, Language


@dataclass(frozen=True)
class Attachment:
    """A file joined to a mail (a PDF letter, an ICS agenda)."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Wording:
    """A text of a mail in every language, with ``{name}`` fields filled when it is written.

    Examples
    --------
    >>> Wording(fr="Bonjour {name},", en="Hello {name},")("en", name="Ada")
    'Hello Ada,'
    """

    fr: str
    en: str

    def __post_init__(self) -> None:
        if tuple(f.name for f in fields(self)) != LANGUAGES:
            raise TypeError(f"a wording holds exactly the languages {', '.join(LANGUAGES)}")

    def __call__(self, language: str, **values: object) -> str:
        """The text in ``language`` (a code of LANGUAGES), its fields filled with ``values``."""
        text: str = getattr(self, Language(language).value)
        return text.format(**values)


def by_language(recipients: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Addresses grouped by language, from ``(address, language)`` pairs: each language's sorted
    addresses, the languages in the order of LANGUAGES (an address is written once, in the
    language of its first pair)."""
    chosen: dict[str, str] = {}
    for address, language in recipients:
        chosen.setdefault(address, Language(language).value)
    return {
        language: sorted(a for a, lang in chosen.items() if lang == language)
        for language in LANGUAGES
        if language in chosen.values()
    }


@dataclass(frozen=True)
class Mail:
    """One message to one or more recipients, plain text, in one language."""

    to: Sequence[str]
    subject: str
    body: str
    reply_to: str | None = None
    attachments: Sequence[Attachment] = field(default_factory=tuple)


def _message(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(mail.to)
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="grappe.localhost")
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    message.set_content(mail.body)
    for attachment in mail.attachments:
        main, _, sub = attachment.mime_type.partition("/")
        message.add_attachment(
            attachment.content, maintype=main, subtype=sub or "octet-stream", filename=attachment.filename
        )
    return message


def _to_outbox(message: EmailMessage, outbox: Path) -> None:
    outbox.mkdir(parents=True, exist_ok=True)
    target = outbox / f"{uuid.uuid4().hex}.eml"
    partial = target.with_suffix(".part")
    partial.write_bytes(message.as_bytes())
    partial.replace(target)  # a reader of the outbox never sees half a message


def send_all(mails: Iterable[Mail], settings: Settings | None = None) -> int:
    """Send every mail over one SMTP connection (or to the outbox); the number sent."""
    settings = settings or get_settings()
    messages = [_message(mail, settings.mail_from) for mail in mails if mail.to]
    if not messages:
        return 0
    if settings.smtp_host is None:
        for message in messages:
            _to_outbox(message, settings.outbox_dir)
        return len(messages)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as client:
            if settings.smtp_starttls:
                client.starttls()
            if settings.smtp_user and settings.smtp_password:
                client.login(settings.smtp_user, settings.smtp_password.get_secret_value())
            for message in messages:
                client.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(
            f"le serveur de messagerie {settings.smtp_host}:{settings.smtp_port} n'a pas accepté "
            f"le message : {error}"
        ) from error
    return len(messages)


def send(mail: Mail, settings: Settings | None = None) -> None:
    """Send one mail (see :func:`send_all`)."""
    send_all([mail], settings)


def outbox(settings: Settings | None = None) -> list[Path]:
    """The mail written to the outbox, oldest first (what an operator without SMTP reads)."""
    folder = (settings or get_settings()).outbox_dir
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns)
