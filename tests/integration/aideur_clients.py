"""Aideur's replies as real clients write them: Thunderbird (plain, "Le … a écrit :" and > quotes), Outlook
(HTML, "De : / Envoyé :" block, signature), Gmail web (HTML + plain, "Le … a écrit :" in a blockquote)."""
from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import make_msgid

from imap_tools import MailMessage

from tests.helpers import AIDEUR

SIGNATURE = "Aideur\nClub Aide\nTél. 06 99 88 77 66"


def reply_to_notification(note: MailMessage, body: str, client: str, *, sender: str = AIDEUR,
                          to: str | None = None, name: str = "Aideur") -> EmailMessage:
    """A reply to `note` as `client` writes it (members reply to the club's mails the same ways)."""
    message = EmailMessage()
    message["From"] = f"{name} <{sender}>"
    message["To"] = to or note.reply_to[0]
    message["Subject"] = ("RE: " if client == "outlook" else "Re: ") + note.subject
    message["Message-ID"] = make_msgid(domain="club.test")
    message["In-Reply-To"] = note.headers["message-id"][0]
    message["References"] = note.headers["message-id"][0]
    quoted = note.text
    if client == "thunderbird":
        message["User-Agent"] = "Mozilla/5.0 Thunderbird/115.0"
        text = f"{body}\n\n-- \n{SIGNATURE}\n\nLe 26/11/2026 à 10:00, Club Aide a écrit :\n" + \
            "\n".join("> " + line for line in quoted.splitlines())
        message.set_content(text)
    elif client == "outlook":
        message["X-Mailer"] = "Microsoft Outlook 16.0"
        body_html = "".join(f"<p class=MsoNormal>{html.escape(line) or '&nbsp;'}</p>" for line in body.splitlines())
        sig_html = "<br>".join(html.escape(line) for line in SIGNATURE.splitlines())
        quote_html = "<br>".join(html.escape(line) for line in quoted.splitlines())
        message.set_content(
            f"<html><body><div class=WordSection1>{body_html}<p class=MsoNormal>&nbsp;</p>"
            f"<p class=MsoNormal>Cordialement,<br>{sig_html}</p>"
            f"<div style='border:none;border-top:solid #E1E1E1 1.0pt'><p class=MsoNormal><b>De :</b> Club Aide "
            f"&lt;aide@club.test&gt;<br><b>Envoyé :</b> jeudi 26 novembre 2026 10:00<br><b>À :</b> {sender}<br>"
            f"<b>Objet :</b> {html.escape(note.subject)}</p></div><p class=MsoNormal>{quote_html}</p>"
            "</div></body></html>", subtype="html")
    elif client == "gmail":
        text = f"{body}\n\nLe jeu. 26 nov. 2026 à 10:00, Club Aide <aide@club.test> a écrit :\n" + \
            "\n".join("> " + line for line in quoted.splitlines())
        body_html = "<br>".join(html.escape(line) for line in body.splitlines())
        message.set_content(text)
        message.add_alternative(
            f"<div dir=\"ltr\">{body_html}</div><br><div class=\"gmail_quote\"><div dir=\"ltr\" "
            f"class=\"gmail_attr\">Le jeu. 26 nov. 2026 à 10:00, Club Aide &lt;<a href=\"mailto:aide@club.test\">"
            f"aide@club.test</a>&gt; a écrit&nbsp;:<br></div><blockquote class=\"gmail_quote\">"
            f"{html.escape(quoted).replace(chr(10), '<br>')}</blockquote></div>", subtype="html")
    else:
        raise ValueError(client)
    return message


CONFIRMATION_SUBJECT = "Confirmez-vous cette commande"


def confirmation_requests(server, address: str = AIDEUR) -> list[MailMessage]:  # type: ignore[no-untyped-def]
    """The "do you confirm this command?" mails Aideur received (commands sent through his command address)."""
    from tests.helpers import mailbox

    return [m for m in mailbox(server, address) if CONFIRMATION_SUBJECT in m.subject]


def confirm_command(server, settings, sessions, at, answer: str = "OUI", *,  # type: ignore[no-untyped-def]
                    request: MailMessage | None = None, sender: str = AIDEUR, client: str = "thunderbird"):
    """Aideur answers the newest confirmation request (or `request`) by reply, as `client` writes it, and the
    daemon runs one cycle at `at`. Returns the cycle's report."""
    from tests.helpers import CLUB, run_cycle, smtp_send, wait_mail

    if request is None:
        requests = confirmation_requests(server, sender)
        assert requests, "no confirmation request in Aideur's mailbox"
        request = requests[-1]
    smtp_send(server, reply_to_notification(request, answer, client, sender=sender))
    wait_mail(server, CLUB, 1)
    return run_cycle(settings, sessions, at=at)
