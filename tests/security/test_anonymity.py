"""Issue 11, points 3 and 4, attacked end to end over the real loopback servers (Postfix + Dovecot).

- A disguised identity in an appeal (soft hyphen, NFD, spaced letters, glued names, Cyrillic, zero-width,
  fullwidth, phones with double spaces / underscores / commas / +33, street with its number, IBAN with dashes, an
  address with " at ") is refused: Aideur is told what matched and how it was disguised, no helper's mailbox
  receives anything, no appeal is recorded. A clean appeal then goes out: the guard is not simply shut.
- #relier with no appeal before it never sends the requester's words: Aideur is asked for a text, nothing is sent;
  with a text, the helper reads that text and nothing of the request.
- A Hypothesis run over the same servers: generated identities, disguised, never reach a helper's mailbox.
"""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from sqlalchemy import func, select

from mailbot.config import load_settings
from mailbot.models import Appeal, Connection, Consent, Member, OutboxMail, Solicitation
from mailbot.privacy import Identity
from tests.conftest import make_env
from tests.helpers import AIDEUR, ALICE, BRUNO, CHLOE, CLUB, STRANGER, mailbox, run_cycle, settle, smtp_send, wait_mail
from tests.integration.aideur_clients import reply_to_notification
from tests.integration.test_triage import THURSDAY, answer, open_ticket
from tests.unit.test_privacy import disguised

pytestmark = pytest.mark.servers

HELPERS = (BRUNO, CHLOE, STRANGER)
# Alice's profile for these tests: accents, a compound-free name that NFD and look-alikes can disguise.
PROFILE = {"first_name": "Hélène", "last_name": "Lefèvre", "company": "Lefèvre Conseil", "phone": "06 12 34 56 78",
           "postal_address": "12 rue des Lilas, 75011 Paris"}
SENTENCE = "Un membre cherche un avocat en droit du travail pour un licenciement contesté. Contact : {}."
DISGUISES = [
    ("soft hyphen", "Mme Lef\u00adèvre", "le nom du demandeur", "caractères invisibles"),
    # Composed where the mail is decoded (mime.body_text): the refusal quotes "Lefèvre" as plainly as typed composed.
    ("NFD", unicodedata.normalize("NFD", "Mme Lefèvre"), "le nom du demandeur", ""),
    ("zero-width", "Hél\u200bène", "le prénom du demandeur", ""),  # the command reader drops them first
    ("spaced letters", "L e f è v r e", "le nom du demandeur", ""),
    ("glued names", "HélèneLefèvre", "le nom du demandeur", ""),
    ("glued, lower case", "lefevrehelene", "le nom du demandeur", ""),
    ("Cyrillic look-alikes", "Lеfèvrе", "le nom du demandeur", "autre alphabet"),
    ("fullwidth", "Ｌｅｆｅｖｒｅ", "le nom du demandeur", "autre alphabet"),
    ("phone, double spaces", "06  12  34  56  78", "le téléphone du demandeur", ""),
    ("phone, underscores", "06_12_34_56_78", "le téléphone du demandeur", ""),
    ("phone, commas", "06,12,34,56,78", "le téléphone du demandeur", ""),
    ("phone, +33", "+33 6 12 34 56 78", "le téléphone du demandeur", ""),
    ("street with its number", "12, rue des Lilas", "l'adresse postale du demandeur", ""),
    ("IBAN with dashes", "FR76-3000-6000-0112-3456-7890-189", "un IBAN", ""),
    ("address with at", "alice at membres point test", "l'adresse e-mail du demandeur", ""),
]
CLIENTS = ("thunderbird", "gmail", "outlook")


def with_profile(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        alice = session.scalars(select(Member).where(Member.email == ALICE)).one()
        for key, value in PROFILE.items():
            setattr(alice, key, value)


def flat(text: str) -> str:
    """A mail's text on one line, without the quote marks the template puts before a quoted text."""
    return " ".join(word for word in text.split() if word != ">")


def helper_mailboxes(server) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {address: len(mailbox(server, address)) for address in HELPERS}


def test_a_disguised_identity_in_an_appeal_is_refused_and_reaches_no_helper(clean_mail, settings, sessions):
    server = clean_mail
    note = open_ticket(server, settings, sessions)
    with_profile(sessions)
    for index, (_name, text, _what, _how) in enumerate(DISGUISES):
        answer(server, settings, sessions, note, "#appel compétences: droit du travail\n" + SENTENCE.format(text),
               CLIENTS[index % len(CLIENTS)])
    refusals = [m for m in settle(server, AIDEUR, 1 + len(DISGUISES)) if "Commande non exécutée" in m.subject]
    assert len(refusals) == len(DISGUISES)
    for (name, _, what, how), refusal in zip(DISGUISES, refusals, strict=False):
        text = " ".join(refusal.text.split())
        assert "L'appel n'a pas été envoyé" in text and what in text, name
        assert how in text, name
    # Nothing reached anyone but Aideur: no helper's mailbox, no appeal row, no solicitation, no outbox row.
    assert helper_mailboxes(server) == {BRUNO: 0, CHLOE: 0, STRANGER: 0}
    assert len(mailbox(server, ALICE)) == 1  # her acknowledgement only
    with sessions() as session:
        assert session.scalar(select(func.count(Appeal.id))) == 0
        assert session.scalar(select(func.count(Solicitation.id))) == 0
        assert session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.recipient.in_(HELPERS))) == 0

    # The guard is not simply shut: the same appeal without the disguised identity goes to Chloé.
    answer(server, settings, sessions, note, "#appel compétences: droit du travail\n" + SENTENCE.format("Aideur"))
    [call] = wait_mail(server, CHLOE, 1)
    assert "licenciement" in call.text and "Lef" not in call.text and "Hél" not in call.text


def test_relier_without_an_appeal_asks_aideur_for_a_text_and_sends_nothing(clean_mail, settings, sessions):
    server = clean_mail
    words = ("Mon salarié Jean-Marc Dufour, domicilié 3 impasse des Roses, conteste son licenciement devant les "
             "prud'hommes.")
    note = open_ticket(server, settings, sessions, subject="Salarié Dufour", text=words)
    answer(server, settings, sessions, note, f"#accepter 31/12\n#relier {CHLOE}")
    [refusal] = [m for m in settle(server, AIDEUR, 2) if "Commande non exécutée" in m.subject]
    text = " ".join(refusal.text.split())
    assert "La mise en relation n'a pas été demandée" in text and "écrivez ce texte sous la commande" in text
    assert "#relier 3 Un membre" in text  # an example of how to write it
    # Nothing was sent, to the helper or to Alice, and nothing was started.
    assert helper_mailboxes(server) == {BRUNO: 0, CHLOE: 0, STRANGER: 0}
    assert len(settle(server, ALICE, 1)) == 1
    with sessions() as session:
        assert session.scalar(select(func.count(Connection.id))) == 0
        assert session.scalar(select(func.count(Consent.id))) == 0

    # With a text written for the helper, Chloé reads that text and nothing of Alice's words.
    answer(server, settings, sessions, note,
           f"#relier {CHLOE}\nUn membre cherche conseil sur un licenciement contesté devant les prud'hommes.")
    [ask] = wait_mail(server, CHLOE, 1)
    body = flat(ask.text)
    assert "Un membre cherche conseil sur un licenciement contesté devant les prud'hommes." in body
    for word in ("Dufour", "Jean-Marc", "Roses", "domicilié", "Salarié", "Alice", "Martin"):
        assert word not in body and word not in ask.subject, word
    asked_alice = [m for m in wait_mail(server, ALICE, 2) if "êtes-vous d'accord" in m.subject]
    assert len(asked_alice) == 1


def test_relier_with_a_disguised_text_is_refused(clean_mail, settings, sessions):
    server = clean_mail
    note = open_ticket(server, settings, sessions)
    with_profile(sessions)
    answer(server, settings, sessions, note, f"#relier {CHLOE}\nVoyez avec Mme Lé\u00adfe\u0300vre, elle attend.")
    [refusal] = [m for m in settle(server, AIDEUR, 2) if "Commande non exécutée" in m.subject]
    words = " ".join(refusal.text.split())  # paragraphs are filled: a phrase may run over two lines
    assert "le nom du demandeur" in words and "#relier avec un autre texte" in words
    assert helper_mailboxes(server) == {BRUNO: 0, CHLOE: 0, STRANGER: 0}
    with sessions() as session:
        assert session.scalar(select(func.count(Connection.id))) == 0


def test_relier_after_an_appeal_sends_the_helper_aideurs_text_and_nothing_to_the_requester(clean_mail, settings,
                                                                                           sessions):
    """After an appeal and an offer, "#relier 1" followed by a text: the helper reads that text (not the request,
    not the appeal), and the text, written for the helper, is not relayed to the requester as a message."""
    server = clean_mail
    note = open_ticket(server, settings, sessions, text="Mon apprenti Kévin Moreau a eu un accident du travail.")
    answer(server, settings, sessions, note, "#appel compétences: droit du travail\nUn membre a besoin d'un avis "
                                             "sur un accident du travail.")
    [call] = wait_mail(server, CHLOE, 1)
    smtp_send(server, reply_to_notification(call, "Je peux aider.", "gmail", sender=CHLOE, name="Chloé"))
    wait_mail(server, CLUB, 1)
    run_cycle(settings, sessions, at=THURSDAY)
    offer = next(m for m in wait_mail(server, AIDEUR, 3) if "Offre n° 1" in m.subject)
    answer(server, settings, sessions, offer, "#relier 1\nLe membre attend surtout un avis sur la déclaration à "
                                              "faire à la caisse d'assurance maladie.\n\nCordialement,\nAideur")
    ask = next(m for m in wait_mail(server, CHLOE, 3) if "êtes-vous d'accord" in m.subject)
    body = flat(ask.text)
    assert "Le membre attend surtout un avis sur la déclaration à faire à la caisse d'assurance maladie." in body
    for word in ("Kévin", "Moreau", "apprenti", "Cordialement", "Aideur Club Aide Tél"):
        assert word not in body, word
    # Alice: her acknowledgement, then the consent question; nothing of what Aideur wrote for Chloé.
    alice = settle(server, ALICE, 2)
    assert len(alice) == 2 and "êtes-vous d'accord" in alice[1].subject
    assert "caisse d'assurance maladie" not in flat(alice[1].text)


# --- the property, end to end ------------------------------------------------------------------------------------

@pytest.fixture
def sqlite_settings(clean_mail, sqlite_url):  # type: ignore[no-untyped-def]
    """The property runs many cycles: on SQLite only (the cases above run on both databases)."""
    return load_settings(make_env(clean_mail, sqlite_url), env_file=None)


@pytest.fixture
def sqlite_sessions(sqlite_url, sessions_for):  # type: ignore[no-untyped-def]
    return sessions_for(sqlite_url)


EXAMPLES = 30


def test_property_disguised_identities_never_reach_a_helper_mailbox(clean_mail, sqlite_settings, sqlite_sessions):
    server, settings, sessions = clean_mail, sqlite_settings, sqlite_sessions
    note = open_ticket(server, settings, sessions)
    tried: list[str] = []

    @given(disguised())
    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck))
    def one(case: tuple[Identity, str, str, str]) -> None:
        identity, text, part, how = case
        with sessions.begin() as session:  # the requester becomes the generated person
            alice = session.scalars(select(Member).where(Member.id == 1)).one()
            for key in ("first_name", "last_name", "company", "email", "phone", "postal_address"):
                setattr(alice, key, getattr(identity, key))
        answer(server, settings, sessions, note, "#appel compétences: droit du travail ; membres: 3\n" + text,
               CLIENTS[len(tried) % len(CLIENTS)])
        tried.append(f"{part}: {how}")
        event(part)

    one()
    assert len(tried) >= EXAMPLES // 2
    refusals = [m for m in settle(server, AIDEUR, 1 + len(tried)) if "Commande non exécutée" in m.subject]
    assert len(refusals) == len(tried), tried
    assert helper_mailboxes(server) == {BRUNO: 0, CHLOE: 0, STRANGER: 0}
    with sessions() as session:
        assert session.scalar(select(func.count(Appeal.id))) == 0
        assert session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.recipient.in_(HELPERS))) == 0
