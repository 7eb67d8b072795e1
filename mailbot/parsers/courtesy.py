"""The words around a text that are not the text: greeting lines above it, a sign-off and a signature under it.

Aideur writes an appeal like a mail ("Bonjour à tous,", the text, "Merci, / Aideur"); a helper signs an offer
("Bien à vous, / Denise Leroy / Leroy Conseil"). The appeal template has its own greeting and the consent question
must not name the helper, so both need the text alone. The shared rules (`rules.py`: greeting words, sign-offs,
signature delimiters) decide; this module only applies them at the edges of a text, never in its middle.
"""
from __future__ import annotations

import re

from .rules import GREETING_WORDS, RAW_MOBILE_SIGNATURE, RAW_SIG_DELIMITER, SIGN_OFF_WORDS, fold

__all__ = ["strip_courtesy"]

# A greeting at the start of a line, with what may follow it before the text: "Bonjour à tous,", "Chers membres
# du Club,", "Bonjour Aideur !", "Hello everyone". Matched on folded text.
_GREETING = re.compile(
    rf"^\s*(?:{GREETING_WORDS}|chers|cheres|bonjour\s+a\s+tous)"
    r"(?:\s+(?:a|et|tous|toutes|tout|le|la|les|du|de|des|monde|membres?|amis?|amies?|collegues|adherents?|"
    r"adherentes?|club|reseau|equipe|l'equipe|aideur|everyone|all|madame|monsieur|mesdames|messieurs|"
    r"[a-z][\w'-]*(?=\s*[,!.:]?\s*$)))"
    r"{0,5}\s*[,!.:]*\s*$"
)
# A sign-off, alone or followed by a name on the same line ("Merci, Aideur", "Bien à vous, Denise").
_SIGN_OFF = re.compile(
    rf"^\s*(?:(?:{SIGN_OFF_WORDS}|bien\s+a\s+vous|a\s+bientot|bonne\s+journee|amities|bien\s+amicalement|a\+|"
    r"merci\s+encore|encore\s+merci|avec\s+mes\s+remerciements)"
    # "Merci à tous !", "Bonne journée à toutes et à tous", "Merci d'avance pour votre aide"
    r"(?:\s+(?:a|et|tous|toutes|vous|pour|votre|vos|aide|retour|retours|reponse|reponses|d'avance|par|avance))*)"
    r"(?=[\s,.!]|$)\s*[,.!]*\s*(?P<rest>.*)$")


def _is_greeting_line(line: str) -> bool:
    return bool(_GREETING.match(fold(line)))


def _leading_greeting(line: str) -> int:
    """Where the text starts on a first line that opens with a greeting ("Bonjour, un membre cherche…")."""
    folded = fold(line)
    match = re.match(rf"^\s*(?:{GREETING_WORDS})(?:\s+a\s+(?:tous|toutes))?\s*[,!]\s*", folded)
    return match.end() if match else 0


_CONNECTORS = frozenset({"du", "de", "des", "la", "le", "les", "et", "&", "-", "–", "—", "|", "/", "chez"})


def _signature_like(line: str) -> bool:
    """A line of a signature block: a name, a title, a company, a phone, an address; short and no sentence."""
    text = line.strip()
    if not text or len(text) > 60 or text.endswith(("?", ":", "!", ";")):
        return False
    if re.search(r"@|\d{2}|www\.|https?://", text):
        return True
    tokens = text.rstrip(",.").split()
    named = [t for t in tokens if t[:1].isupper() or t.lower().startswith(("l'", "d'"))]
    plain = [t for t in tokens if t not in named and t.lower() not in _CONNECTORS]
    return len(tokens) <= 6 and len(named) >= 1 and len(plain) <= 1


def strip_courtesy(text: str, *, names: tuple[str, ...] = ()) -> str:
    """`text` without its greeting lines at the top and its sign-off and signature at the bottom.

    `names`: words that alone on a last line are a signature too (the writer's own name, "Aideur"). The middle of
    the text is never touched; a text that is only courtesy gives "".
    """
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # "-- " or a phone's "Envoyé de mon iPhone": everything under it is signature.
    for index, line in enumerate(lines):
        if index and (RAW_SIG_DELIMITER.match(line) or RAW_MOBILE_SIGNATURE.match(line)):
            lines = lines[:index]
            break
    while lines and (not lines[0].strip() or _is_greeting_line(lines[0])):
        lines.pop(0)
    if lines and (start := _leading_greeting(lines[0])):
        lines[0] = lines[0][start:]
        if lines[0][:1].islower():
            lines[0] = lines[0][0].upper() + lines[0][1:]
    while lines and not lines[-1].strip():
        lines.pop()
    filled = [i for i, line in enumerate(lines) if line.strip()]
    folded_names = {fold(name).strip() for name in names if name.strip()}
    # The last sign-off with nothing but signature lines under it (at most six).
    for position in range(len(filled) - 1, max(len(filled) - 8, -1), -1):
        index = filled[position]
        match = _SIGN_OFF.match(fold(lines[index]))
        tail = [lines[i] for i in filled[position + 1:]]
        rest = lines[index][match.start("rest"):].strip() if match else ""
        if match and (not rest or _signature_like(rest)) and len(tail) <= 6 and all(_signature_like(x) for x in tail):
            lines = lines[:index]
            break
    else:
        while lines and fold(lines[-1]).strip(" ,.!-") in folded_names | {"aideur"}:
            lines.pop()
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(line.rstrip() for line in lines).strip()
