"""read_consent / read_confirmation: every clause and line written after the yes is read (attack round 13).

A yes is plain only if everything after it — in the same sentence or not, on the next line, between quoted lines,
under a sign-off — is politeness, a greeting or a signature that really is the person's name. A restriction of the
channel or of the fields in its own sentence ("Oui. Que par mail.", "Oui\\nPar mail", "nom, e-mail" under our quoted
list) restricts the yes as it does in the same clause; "only through the club" or "anonymously" shares nothing and
is asked again; a capitalised qualifier ("Oui\\nTBC", "Oui, Anonyme.") is not a name. Before the fix each case below
that is not a "what stays" case read as a plain YES (the whole card shared, or an erasure run).
"""
from __future__ import annotations

import pytest

from mailbot.parsers.consent import ConsentAnswer, read_consent
from mailbot.parsers.withdrawal import read_confirmation

YES, NO, UNCLEAR, RESTRICTED = ConsentAnswer.YES, ConsentAnswer.NO, ConsentAnswer.UNCLEAR, ConsentAnswer.RESTRICTED

# Our sentence listing the card's fields, quoted in an interleaved reply.
Q_CARD = ("> Pour que vous puissiez vous parler, nous aimerions lui transmettre vos\n"
          "> coordonnées (nom, téléphone, e-mail) et vous transmettre les siennes.")


@pytest.mark.parametrize("answer", [
    # attack 13
    "Oui. Que par mail.",
    "Oui\nPar mail",
    "Oui\n\nPar mail svp\n\nJean",
    "Oui. Mail svp.",
    # more of the same: another channel, another punctuation, another line
    "Oui ! Que par téléphone.",
    "Ok. Par téléphone svp.",
    "Oui\nVia mail",
    "Oui\nEt par mail",
    "Oui\nPar mail, merci",
    "Oui\nAu Téléphone",
])
def test_a_channel_restriction_in_its_own_sentence_restricts_the_yes(answer: str) -> None:
    """Before: YES — a restriction in the sentence or line after the "oui" passed as neutral words ("que", "par",
    "mail"), so the whole card (phone included) was shared. Now: RESTRICTED, as "Oui, que par mail" is."""
    assert read_consent("Oui, que par mail").answer is RESTRICTED  # the same words in one clause
    reading = read_consent(answer)
    assert reading.answer is RESTRICTED, (answer, reading)
    assert "company" not in reading.fields and len(reading.fields) == 1, reading


@pytest.mark.parametrize("answer", [
    # attack 13
    "Oui, que par le club",
    "Oui, que par vous",
    "Oui, par le club",
    # more
    "Oui\nQue par Aideur",
    "Oui. Par le club.",
    "Oui\nVia Le Club",
    "Oui\nEn Passant Par Vous",
    "Oui\nPar votre intermédiaire",
])
def test_yes_only_through_the_club_is_not_consent_to_share_details(answer: str) -> None:
    """Before: YES — "que par le club" / "par vous" were neutral words ("club", "vous" are filler), so the card was
    sent, the opposite of what she asked. Now: UNCLEAR (no card can be "only through the club": asked again)."""
    assert read_consent("oui, seulement par le club").answer is UNCLEAR
    reading = read_consent(answer)
    assert reading.answer is UNCLEAR, (answer, reading)


@pytest.mark.parametrize("answer", [
    # attack 13
    "Oui, Anonyme.",
    "Oui\nAnonyme",
    "Oui\nEn Anonyme",
    "Oui, TBC",
    "Oui (TBC)",
    "Oui\nTBC",
    "Oui\nPar Mail",
    # more
    "Oui\nÀ Moitié",
    "Oui\nAnonymement",
    "Oui\nIncognito",
    "Oui\nTBD",
    "Oui\nProvisoire",
    "Oui\nCeci Dit",
    "Oui\nSMS",
    "Oui\nWhatsApp",
    "Oui, mail svp",
    "Oui, mail",
    "Oui\nSous X",
])
def test_a_capitalised_qualifier_is_not_a_signature(answer: str) -> None:
    """Before: YES — any capitalised word or line passed for the person's name (_name_words/_name_line) and was not
    read, and some qualifiers were no word the reader knew. Now: a name is name-shaped words that are none of the
    words we read; the rest is read (RESTRICTED for a field restriction, UNCLEAR otherwise)."""
    assert read_consent("oui, tbc").answer is UNCLEAR
    reading = read_consent(answer)
    assert reading.answer in (UNCLEAR, RESTRICTED), (answer, reading)


@pytest.mark.parametrize(("answer", "expected"), [
    # attack 13
    ("Oui\nMerci\nAnonyme svp", UNCLEAR),
    ("Oui\nCordialement\nde façon anonyme", UNCLEAR),
    ("Oui\nCordialement\nJean\n\nAnonymement svp", UNCLEAR),
    ("Oui\nMerci\nJean\nPar mail svp", RESTRICTED),
    # more
    ("Oui\nBonne journée\nQue par téléphone", RESTRICTED),
    ("Oui\nBien à vous\nMarie\nEn anonyme si possible", UNCLEAR),
    ("Oui\nMerci\nQue par le club", UNCLEAR),
    ("Oui\nCordialement\nTBC", UNCLEAR),
    ("Oui\nMerci\nSMS svp", UNCLEAR),
    ("Oui\nMerci\nÀ Moitié", UNCLEAR),
])
def test_a_wish_written_under_the_sign_off_is_read(answer: str, expected: ConsentAnswer) -> None:
    """Before: YES — the line under "Merci"/"Cordialement" was dropped as the signature (consent._speaks did not see a
    wish of anonymity, a channel or "TBC" as speaking of the answer). Now: read."""
    reading = read_consent(answer)
    assert reading.answer is expected, (answer, reading)


@pytest.mark.parametrize(("listed", "fields"), [
    # attack 13
    ("nom, e-mail", {"name", "email"}),
    ("nom et mail", {"name", "email"}),
    ("[nom, e-mail]", {"name", "email"}),
    # more
    ("téléphone", {"phone"}),
    ("e-mail.", {"email"}),
    ("Nom + mail svp", {"name", "email"}),
])
def test_an_interleaved_list_of_fields_under_our_list_restricts_the_yes(listed: str, fields: set[str]) -> None:
    """Before: YES — a bare list of fields written under our quoted list was neutral words, so the full card was
    shared. Now: RESTRICTED to the fields she listed (confirmed with her before anything is shared)."""
    reading = read_consent("Oui\n" + Q_CARD + "\n" + listed)
    assert reading.answer is RESTRICTED and reading.fields == frozenset(fields), (listed, reading)


@pytest.mark.parametrize("answer", [
    # attack 13
    "Oui. Que mon mail.",
    "Oui\nÀ Moitié",
    "Oui, TBC",
    # more
    "Oui\nPar mail",
    "Oui\nMerci\nAnonyme svp",
    "Oui\nTBD",
    "Je confirme. Que le profil.",
    "Oui, que par vous",
])
def test_a_qualified_confirmation_of_erasure_erases_nothing(answer: str) -> None:
    """Before: True — the whole erasure would run (read_confirmation → read_answer, same causes as above). Now: None,
    asked again (erasure is irreversible)."""
    assert read_confirmation("oui, tbc") is None
    assert read_confirmation(answer) is None, answer


@pytest.mark.parametrize(("answer", "expected"), [
    ("Oui, avec plaisir !", YES),
    ("oui\n\nMarie Dupont\n06 12 34 56 78", YES),
    ("Oui.\nMarie Dupont", YES),
    ("Oui\nMerci\nJean-Pierre Martin", YES),
    ("Oui. Cordialement, Marc", YES),
    ("Oui\nMarie DUPONT", YES),
    ("Oui\nJ.-P. Dupont", YES),
    ("Oui\n\nMarie Dupont\nmarie.dupont@exemple.fr", YES),
    ("Oui\nMon mail : marc@exemple.fr", YES),
    ("Oui\nMon mail, c'est marc@exemple.fr", YES),
    ("Oui\nMerci\nMail : marc@exemple.fr", YES),
    ("Oui, voici mon mail : marc@exemple.fr", YES),
    ("Oui\nTél. 06 12 34 56 78", YES),
    ("Oui, il peut me contacter par mail ou téléphone.", YES),
    ("Oui\n" + Q_CARD + "\nMerci", YES),
    ("Non. Par mail non plus.", NO),
])
def test_what_stays_a_plain_answer(answer: str, expected: ConsentAnswer) -> None:
    """Politeness, a sign-off, a real name, her own details given: still a plain answer."""
    assert read_consent(answer).answer is expected, answer


@pytest.mark.parametrize(("answer", "names", "expected"), [
    ("Oui\nMarie Dupont", ("Marie", "Dupont"), YES),
    ("Oui\nMarie", ("Marie", "Dupont"), YES),
    ("Oui\nM. Dupont", ("Marie", "Dupont"), YES),
    ("Oui\nJean-Pierre Le Gall", ("Jean-Pierre", "Le Gall"), YES),
    ("Oui\nJean Moreau", ("Marie", "Dupont"), UNCLEAR),  # someone else's name: whose yes?
    ("Oui\nTraduction Simultanée", ("Marie", "Dupont"), UNCLEAR),
    ("Oui\nLentement", ("Marie", "Dupont"), UNCLEAR),
    ("Oui\nLentement", (), UNCLEAR),  # a French word by its ending, names known or not
])
def test_a_signature_is_compared_with_the_persons_names(answer: str, names: tuple[str, ...],
                                                         expected: ConsentAnswer) -> None:
    """The workflow passes the member's names: a line after the yes is her signature only if it is her name.
    Before: every capitalised line was a name (and read_consent took no names)."""
    assert read_consent(answer, names=names).answer is expected, answer
