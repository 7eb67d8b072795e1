"""#clore silencieux (issue 13, point 1): which words after #clore ask for a close that writes to nobody."""
from __future__ import annotations

import pytest

from mailbot.commands.clore import is_quiet


@pytest.mark.parametrize("argument", [
    "silencieux", "Silencieuse", "SILENCIEUSEMENT", "sans message", "Sans Message", "discret", "discrète",
    "CA-2026-0042 silencieux", "CA-2026-0042 : c'était une copie, sans prévenir", "en silence", "sans mail",
    "sans formulaire", "silent", "quiet",
])
def test_quiet_words(argument):
    assert is_quiet(argument)


@pytest.mark.parametrize("argument", [
    "", "CA-2026-0042", "résolu par téléphone", "le membre a trouvé un couvreur", "messages échangés",
    "discrimination", "avec message",
])
def test_other_reasons_are_an_ordinary_close(argument):
    assert not is_quiet(argument)


# Attack (issue 13, point 1): the ways Aideur says "tell nobody" besides the listed words — a negation before a verb
# or a noun of telling. Each of these used to close with a mail to the member quoting the words as the reason.
@pytest.mark.parametrize("argument", [
    "sans le prévenir", "sans l'informer", "sans envoyer de mail", "pas de mail", "sans notifier",
    "sans informer personne", "doublon, ne pas prévenir", "le membre a trouvé seul, inutile de le prévenir",
    "ne pas envoyer de message", "en douce", "sans rien lui dire", "sans lui écrire", "aucun mail",
    "no mail", "without telling",
])
def test_a_negated_telling_is_quiet(argument):
    assert is_quiet(argument)


@pytest.mark.parametrize("argument", [
    "sans réponse du membre depuis trois semaines", "sans suite", "le membre n'a pas répondu",
    "réglé par mail avec Bruno", "le membre a prévenu qu'il avait trouvé", "pas de nouvelles",
    "aucun message du membre depuis un mois", "pas de mail de sa part", "aucun mail reçu depuis octobre",
])
def test_a_reason_mentioning_mail_is_still_an_ordinary_close(argument):
    assert not is_quiet(argument)
