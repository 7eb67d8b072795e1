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
