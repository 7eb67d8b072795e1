"""Property (issue 11, point 1): whatever way a forged mail comes in — the plain address, someone else's invitation,
the old shared invitation address, another member's profile, confirmation or pending-change token, in To:, Cc:,
In-Reply-To or References — and whatever it asks ("modifier", form lines, resignation, erasure, registration with
the acceptance, a bare "oui"), a mail with a member's `From:` that did not come through that member's own token
changes nothing of the member: fields, status, acceptance.

The whole path runs for each case (parse, route, workflow, outbox) on a real SQLite database, without servers.
"""
from __future__ import annotations

import shutil
import tempfile
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from mailbot.compose import TemplateRenderer
from mailbot.config import load_settings
from mailbot.db import make_engine, make_session_factory, upgrade
from mailbot.members import upsert_member
from mailbot.models import Acceptance, Member, OutboxMail, PendingChange, utcnow
from mailbot.outbox import Outbox
from mailbot.pipeline import Pipeline
from mailbot.tokens import (
    ROLE_MEMBER,
    SCOPE_CONFIRM,
    SCOPE_PROFILE,
    SCOPE_REGISTRATION,
    SCOPE_VERIFY,
    Token,
    TokenSigner,
)

CLUB, AIDEUR = "aide@club.test", "aideur@club.test"
VICTIM, OTHER, ATTACKER = "alice@membres.test", "bruno@membres.test", "pirate@ailleurs.test"
TEMPLATE_DB = Path(tempfile.mkdtemp(prefix="mailbot-prop-", dir="/tmp")) / "template.db"
upgrade(f"sqlite:///{TEMPLATE_DB}")

ROUTES = st.sampled_from(["plain", "attacker invitation", "shared invitation", "other profile", "other confirm",
                          "other pending", "victim invitation number, other key"])
PLACES = st.sampled_from(["To", "Cc", "In-Reply-To", "References"])
SUBJECTS = st.sampled_from(["modifier", "Mise à jour de mon profil", "Inscription", "Re: Votre profil au Club Aide",
                            "je quitte le club", "Effacer mes données", "Bonjour", "Re: merci de confirmer"])
LINES = st.lists(st.sampled_from([
    "Téléphone : 07 00 00 00 01", "Entreprise : Arnaque SARL", "Appels du réseau : non", "Visibilité : membres",
    "Nom : Pirate", "Prénom : Jean", "Activité : escroc", "Adresse postale : 1 rue du Piège, 75000 Paris",
    "Acceptation des conditions : J'accepte les conditions V4/2018", "Oui", "OUI je confirme",
]), min_size=0, max_size=6, unique=True)


def snapshot(sessions) -> tuple:  # type: ignore[no-untyped-def]
    with sessions() as session:
        row = session.scalar(select(Member).where(Member.email == VICTIM))
        fields = (row.phone, row.company, row.accepts_appeals, row.visibility, row.status, row.conditions_version,
                  row.last_name, row.first_name, row.activity, row.postal_address)
        return fields, session.scalar(select(func.count(Acceptance.id)))


@given(route=ROUTES, place=PLACES, subject=SUBJECTS, lines=LINES, ended=st.booleans(), named=st.booleans())
@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_forged_from_never_changes_the_member(route: str, place: str, subject: str, lines: list[str],
                                                ended: bool, named: bool) -> None:
    directory = Path(tempfile.mkdtemp(prefix="mailbot-prop-", dir="/tmp"))
    try:
        shutil.copy(TEMPLATE_DB, directory / "mailbot.db")
        url = f"sqlite:///{directory / 'mailbot.db'}"
        settings = load_settings({"MAILBOT_DATABASE_URL": url, "MAILBOT_CLUB_ADDRESS": CLUB,
                                  "MAILBOT_AIDEUR_ADDRESSES": AIDEUR,
                                  "MAILBOT_SECRET_KEY": "property-test-secret-key"}, env_file=None)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        with sessions.begin() as session:
            victim, _ = upsert_member(session, VICTIM, first_name="Alice", last_name="Martin", company="Martin Conseil",
                                   phone="06 12 34 56 78", skills="comptabilité")
            victim.status = "ended" if ended else "active"
            other, _ = upsert_member(session, OTHER, first_name="Bruno", last_name="Petit", skills="maçonnerie")
            session.flush()
            other_id = other.id
        signer = TokenSigner(settings.secret_keys)
        pipeline = Pipeline(settings, sessions, signer, Outbox(settings, signer, TemplateRenderer()), utcnow)
        uid = 1
        # Bruno has a change of his own waiting: its token exists somewhere (his mailbox).
        own = EmailMessage()
        own["From"], own["To"], own["Subject"] = OTHER, CLUB, "modifier"
        own["Message-ID"] = make_msgid(domain="membres.test")
        own.set_content("Téléphone : 01 02 03 04 05")
        pipeline.process(bytes(own), folder="INBOX", uidvalidity=1, uid=uid)
        with sessions() as session:
            other_pending = session.scalars(select(PendingChange.id)).one()
        before = snapshot(sessions)

        token = {
            "plain": None,
            "attacker invitation": signer.address_token(ATTACKER),
            "shared invitation": Token(SCOPE_REGISTRATION, 0, ROLE_MEMBER),
            "other profile": Token(SCOPE_PROFILE, other_id, ROLE_MEMBER),
            "other confirm": Token(SCOPE_CONFIRM, other_id, ROLE_MEMBER),
            "other pending": Token(SCOPE_VERIFY, other_pending, ROLE_MEMBER),
            "victim invitation number, other key": TokenSigner([b"another-key"]).address_token(VICTIM),
        }[route]
        attack = EmailMessage()
        attack["From"] = f"Alice Martin <{VICTIM}>" if named else VICTIM
        attack["Subject"] = subject
        attack["To"] = CLUB
        address = signer.plus_address(CLUB, token) if token else CLUB
        if token is not None:
            if route == "victim invitation number, other key":
                # the right number for her address, but a MAC of another key: not a token at all
                address = TokenSigner([b"another-key"]).plus_address(CLUB, token)
            if place in ("To", "Cc"):
                del attack["To"]
                attack[place] = address
                if place == "Cc":
                    attack["To"] = CLUB
            else:
                attack[place] = f"<{signer.sign(token)}.1764150000@club.test>"
        attack["Message-ID"] = make_msgid(domain="ailleurs.test")
        attack.set_content("\n".join(lines) or "Bonjour")
        outcome = pipeline.process(bytes(attack), folder="INBOX", uidvalidity=1, uid=uid + 1)
        after = snapshot(sessions)
        with sessions() as session:
            to_attacker = session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.recipient == ATTACKER))
            to_other = session.scalars(select(OutboxMail.subject).where(OutboxMail.recipient == OTHER)).all()
        engine.dispose()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    assert after == before, f"the forged mail changed the member ({outcome.action})"
    assert to_attacker == 0  # nothing goes to whoever really sent it
    assert len(to_other) == 1  # Bruno's own confirmation question only: nothing about Alice reaches him
    event(outcome.action)
