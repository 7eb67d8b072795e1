"""Property: whoever the requester is and whatever Aideur writes in an #appel, no part of the requester's identity
ever reaches a helper.

The whole path runs for each generated case — parse, route, triage, appeal check, matching, outbox — on a real
SQLite database; only IMAP and SMTP are left out (the outbox row *is* the mail the server will be handed: its
bytes are decoded here as the helper's mail client would show them).
"""
from __future__ import annotations

import shutil
import tempfile
import unicodedata
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from mailbot.compose import TemplateRenderer
from mailbot.config import load_settings
from mailbot.db import make_engine, make_session_factory, upgrade
from mailbot.members import upsert_member
from mailbot.models import OutboxMail, Ticket, utcnow
from mailbot.outbox import Outbox
from mailbot.parsers.dates import fold
from mailbot.pipeline import Pipeline
from mailbot.privacy import normalise
from mailbot.tokens import ROLE_AIDEUR, SCOPE_TICKET, Token, TokenSigner

CLUB, AIDEUR = "aide@club.test", "aideur@club.test"
HELPERS = [("bruno@membres.test", "Bruno", "Petit", "droit du travail, prud'hommes"),
           ("chloe@membres.test", "Chloé", "Durand", "droit social, licenciement, prud'hommes")]
TEMPLATE_DB = Path(tempfile.mkdtemp(prefix="mailbot-prop-", dir="/tmp")) / "template.db"
upgrade(f"sqlite:///{TEMPLATE_DB}")

names = st.sampled_from(["Martin", "Lefèvre", "Nguyen", "Le Goff", "Dupont-Moreau", "Ouédraogo", "Schmitt",
                         "Benali", "Rousseau", "Fabre", "Kowalski", "Garnier"])
first_names = st.sampled_from(["Hélène", "Jean-Pierre", "Aïcha", "Loïc", "Maëlle", "Thierry", "Sophie", "Karim",
                               "Anne-Sophie", "Bérénice", "Mathis", "Océane"])
companies = st.sampled_from(["Boulangerie {n}", "{n} Conseil", "Atelier {n} SARL", "Cabinet {n} & Associés",
                             "{n} Rénovation SAS", "Menuiserie du Lac"])
phones = st.tuples(st.sampled_from(["6", "7", "1", "2", "3", "4", "5", "9"]),
                   st.lists(st.integers(0, 99), min_size=4, max_size=4))
spellings = st.sampled_from(["plain", "upper", "lower", "folded", "soft hyphen", "NFD", "look-alike", "fullwidth",
                             "zero-width", "spaced out"])
LOOKALIKES = str.maketrans({"a": "а", "e": "е", "o": "ο", "p": "р", "c": "с", "i": "і", "M": "М", "T": "Т",
                            "H": "Н", "K": "К", "B": "В", "O": "О", "A": "Α", "E": "Ε"})


@st.composite
def identities(draw: st.DrawFn) -> dict[str, str]:
    last, first = draw(names), draw(first_names)
    lead, groups = draw(phones)
    local = fold(first).replace(" ", "-").replace("'", "") + "." + fold(last).replace(" ", "")
    return {"first_name": first, "last_name": last, "company": draw(companies).format(n=last),
            "email": f"{local}@exemple-pro.fr", "phone": "0" + lead + " " + " ".join(f"{g:02d}" for g in groups),
            "postal_address": f"{draw(st.integers(1, 120))} rue des {draw(st.sampled_from(['Lilas', 'Acacias']))}"}


def spelled(value: str, how: str) -> str:
    if how == "soft hyphen":
        return "\u00ad".join(value[i:i + 2] for i in range(0, len(value), 2))
    if how == "zero-width":
        return "\u200b".join(value[i:i + 3] for i in range(0, len(value), 3))
    if how == "NFD":
        return unicodedata.normalize("NFD", value)
    if how == "look-alike":
        return value.translate(LOOKALIKES)
    if how == "fullwidth":
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in value)
    if how == "spaced out":
        return " ".join(value)
    return {"plain": value, "upper": value.upper(), "lower": value.lower(), "folded": fold(value)}[how]


def phone_variant(phone: str, how: int) -> str:
    digits = phone.replace(" ", "")
    pairs = phone.split()
    return [phone, digits, ".".join(pairs), "+33 " + digits[1] + " " + " ".join(pairs[1:]), "  ".join(pairs),
            "_".join(pairs), ",".join(pairs), " ".join(digits)][how]


@st.composite
def appeals(draw: st.DrawFn, who: dict[str, str]) -> str:
    """Aideur's appeal: clean sentences, with any subset of the identity mixed in, spelled any way."""
    parts = ["Un membre cherche un avis sur un licenciement contesté devant les prud'hommes."]
    for key in draw(st.sets(st.sampled_from(["first_name", "last_name", "company", "email", "phone",
                                             "postal_address"]))):
        if key == "phone":
            value = phone_variant(who["phone"], draw(st.integers(0, 7)))
        else:
            value = spelled(who[key], draw(spellings))
        parts.append(draw(st.sampled_from(["Contact : {v}.", "({v})", "Voir avec {v} directement.", "{v}"]))
                     .format(v=value))
    return "\n".join(draw(st.permutations(parts)))


def raw(message: EmailMessage) -> bytes:
    return bytes(message)


@given(data=st.data())
@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_part_of_the_requester_identity_ever_reaches_a_helper(data: st.DataObject) -> None:
    who = data.draw(identities(), label="requester")
    text = data.draw(appeals(who), label="appeal")
    directory = Path(tempfile.mkdtemp(prefix="mailbot-prop-", dir="/tmp"))
    try:
        shutil.copy(TEMPLATE_DB, directory / "mailbot.db")
        url = f"sqlite:///{directory / 'mailbot.db'}"
        settings = load_settings({"MAILBOT_DATABASE_URL": url, "MAILBOT_CLUB_ADDRESS": CLUB,
                                  "MAILBOT_AIDEUR_ADDRESSES": AIDEUR,
                                  "MAILBOT_SECRET_KEY": "property-test-secret-key"}, env_file=None)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        requester = who["email"]
        with sessions.begin() as session:
            upsert_member(session, requester, **{k: v for k, v in who.items() if k != "email"},
                          skills="droit du travail")
            for address, first, last, skills in HELPERS:
                upsert_member(session, address, first_name=first, last_name=last, skills=skills)
        signer = TokenSigner(settings.secret_keys)
        pipeline = Pipeline(settings, sessions, signer, Outbox(settings, signer, TemplateRenderer()), utcnow)

        request = EmailMessage()
        request["From"], request["To"], request["Subject"] = requester, CLUB, "Licenciement contesté"
        request["Message-ID"] = make_msgid(domain="exemple-pro.fr")
        request.set_content(f"Bonjour,\nun salarié conteste son licenciement.\n\n-- \n{who['first_name']} "
                            f"{who['last_name']}\n{who['company']}\n{who['postal_address']}\n{who['phone']}")
        pipeline.process(raw(request), folder="INBOX", uidvalidity=1, uid=1)
        with sessions() as session:
            ticket_id = session.scalars(select(Ticket.id)).one()
        reply = EmailMessage()
        reply["From"], reply["Subject"] = AIDEUR, "Re: [CA] Licenciement contesté"
        reply["To"] = signer.plus_address(CLUB, Token(SCOPE_TICKET, ticket_id, ROLE_AIDEUR))
        reply["Message-ID"] = make_msgid(domain="club.test")
        reply.set_content("#appel compétences: prud'hommes ; membres: 2\n" + text)
        pipeline.process(raw(reply), folder="INBOX", uidvalidity=1, uid=2)

        with sessions() as session:
            rows = session.scalars(select(OutboxMail).where(OutboxMail.recipient.in_([h[0] for h in HELPERS]))).all()
            seen = []
            for row in rows:
                message = message_from_bytes(row.body, policy=policy.default)
                seen.append(str(message) + message.get_body(("plain",)).get_content())
            refused = session.scalar(select(OutboxMail.id).where(OutboxMail.kind == "erreur_commande"))
        engine.dispose()
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    # Compared as the guard would never be: letters and digits only, every disguise undone.
    helper_view = "".join(ch for ch in normalise("\n".join(seen)) if ch.isalnum())
    digits = "".join(ch for ch in helper_view if ch.isdigit())
    for key in ("first_name", "last_name", "company", "email", "postal_address"):
        plain = "".join(ch for ch in normalise(who[key]) if ch.isalnum())
        assert plain not in helper_view, f"{key} reached a helper"
    assert who["phone"].replace(" ", "")[1:] not in digits, "the phone number reached a helper"
    # Either the appeal went out (it was clean) or Aideur was told why not: never silence.
    assert bool(rows) != bool(refused)
    event("appeal sent" if rows else "appeal refused")


# --- the outbox's own check: no path can bypass the guard ------------------------------------------------------

def _one_ticket(directory: Path):  # type: ignore[no-untyped-def]
    shutil.copy(TEMPLATE_DB, directory / "mailbot.db")
    url = f"sqlite:///{directory / 'mailbot.db'}"
    settings = load_settings({"MAILBOT_DATABASE_URL": url, "MAILBOT_CLUB_ADDRESS": CLUB,
                              "MAILBOT_AIDEUR_ADDRESSES": AIDEUR, "MAILBOT_SECRET_KEY": "property-test-secret-key"},
                             env_file=None)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    signer = TokenSigner(settings.secret_keys)
    pipeline = Pipeline(settings, sessions, signer, Outbox(settings, signer, TemplateRenderer()), utcnow)
    with sessions.begin() as session:
        upsert_member(session, "helene@exemple-pro.fr", first_name="Hélène", last_name="Lefèvre",
                      company="Lefèvre Conseil", phone="06 12 34 56 78", skills="droit du travail")
        for address, first, last, skills in HELPERS:
            upsert_member(session, address, first_name=first, last_name=last, skills=skills)
    request = EmailMessage()
    request["From"], request["To"], request["Subject"] = "helene@exemple-pro.fr", CLUB, "Licenciement"
    request["Message-ID"] = make_msgid(domain="exemple-pro.fr")
    request.set_content("Bonjour,\nun salarié conteste son licenciement.")
    pipeline.process(raw(request), folder="INBOX", uidvalidity=1, uid=1)
    return engine, sessions, settings, signer


@given(st.sampled_from(["Mme Lef\u00adèvre", "HÉLÈNE", "Lеfèvrе", "06_12_34_56_78", "lefevrehelene",
                        "Ｌｅｆèｖｒｅ", "L e f è v r e"]), st.sampled_from(["subject", "text"]))
@hypothesis_settings(max_examples=14, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_outbox_stops_any_mail_that_would_name_the_requester_to_someone_else(disguised: str, where: str) -> None:
    """A workflow that forgot the check (simulated: a mail queued straight on the context) still leaks nothing:
    the outbox does not store it, records why, and tells Aideur."""
    from mailbot.models import Event
    from mailbot.tokens import ROLE_HELPER, SCOPE_APPEAL
    from mailbot.workflows.base import Outgoing, WorkflowContext

    directory = Path(tempfile.mkdtemp(prefix="mailbot-prop-", dir="/tmp"))
    try:
        engine, sessions, settings, signer = _one_ticket(directory)
        outbox = Outbox(settings, signer, TemplateRenderer())
        with sessions.begin() as session:
            ticket = session.scalars(select(Ticket)).one()
            ctx = WorkflowContext(session=session, settings=settings, signer=signer, now=utcnow())
            text = f"Voyez avec {disguised}." if where == "text" else "Un membre a besoin d'aide."
            ref = f"{ticket.ref} {disguised}" if where == "subject" else ticket.ref
            for to in (HELPERS[0][0], "helene@exemple-pro.fr"):  # a helper, and the requester herself
                ctx.send(Outgoing(template="appel", to=to, ticket_id=ticket.id, idempotency_key=f"test:{to}",
                                  token=Token(SCOPE_APPEAL, 1, ROLE_HELPER),
                                  context={"club_name": "Club Aide", "first_name": "Bruno", "ref": ref,
                                           "text": text, "reason": "", "due_date": ""}))
            outbox.store_all(ctx)
        with sessions() as session:
            recipients = sorted(session.scalars(select(OutboxMail.recipient).where(
                OutboxMail.kind == "appel")).all())
            alerts = session.scalars(select(OutboxMail).where(OutboxMail.kind == "alerte_anonymat")).all()
            events = session.scalars(select(Event.detail).where(Event.kind == "anonymity-blocked")).all()
        engine.dispose()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    assert recipients == ["helene@exemple-pro.fr"]  # the requester may read her own name; the helper may not
    assert [alert.recipient for alert in alerts] == [AIDEUR]
    alert = message_from_bytes(alerts[0].body, policy=policy.default).get_body(("plain",)).get_content()
    assert "bruno@membres.test" in alert and "du demandeur" in alert and "Rien n'est parti" in alert
    assert len(events) == 1 and "bruno@membres.test" in events[0]
