"""Turn a template and its context into a complete, standards-correct mail.

Every word a person reads lives in mailbot/templates/emails/*.j2 (package data: the wheel carries them), each with
a `subject` and a `body` block. The operator may replace any of them, partials included, by a file of the same name
in MAILBOT_TEMPLATES_DIR: a file there wins, the packaged one is the fallback (and is used, with an error in the
log, when the operator's file fails to render: a member still gets her mail; `mailbot check` names the file). Mails are
plain text in UTF-8, quoted-printable (safe through any relay), lines kept short for every client. A template may
also define an `html` block (rendered with autoescaping, so member text never becomes markup): the mail is then
multipart/alternative, the plain text first and the HTML second.
"""
from __future__ import annotations

import base64
import functools
import logging
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from email.utils import encode_rfc2231, format_datetime, formataddr
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import jinja2.meta

from mailbot import french
from mailbot.parsers import Attachment
from mailbot.parsers.registration import FIELD_LABELS

if TYPE_CHECKING:
    from mailbot.config import Settings

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates" / "emails"  # package data: the wheel carries it
LINE_WIDTH = 76  # the longest line a mail may hold (a table row, a command line); longer ones are wrapped
PARAGRAPH_WIDTH = 72  # prose is filled to this width (RFC 3676's advice), leaving room for a quote mark or two


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    html: str | None = None  # the optional HTML alternative (the template's `html` block)


class TemplateRenderer:
    """Renders templates/emails/<name>.j2; with `overrides`, a file of that directory wins over the packaged one."""

    def __init__(self, directory: Path = TEMPLATES_DIR, *, overrides: Path | None = None) -> None:
        search = [overrides, directory] if overrides is not None else [directory]
        self.env = _environment(search, autoescape=False)
        # The `html` block is rendered from a second compilation of the same file with autoescaping on: it is
        # the renderer, not each template's author, that makes "<script>" in a member's text inert.
        self.html_env = _environment(search, autoescape=True)
        self.overrides = overrides
        self._packaged = TemplateRenderer(directory) if overrides is not None else None

    @classmethod
    def for_settings(cls, settings: Settings) -> TemplateRenderer:
        """The renderer of the daemon and the CLI: the packaged templates, under the operator's MAILBOT_TEMPLATES_DIR."""
        return cls(overrides=settings.templates_dir)

    def render(self, name: str, context: dict[str, Any]) -> Rendered:
        try:
            return self._render(name, context)
        except (jinja2.TemplateError, KeyError, TypeError, ValueError, ArithmeticError) as error:
            if self._packaged is None:
                raise
            # An operator's file that does not render must not cost a member her mail: the packaged one goes out.
            log.error("template override in %s fails for %s.j2 (%s): the packaged template is used; "
                      "run `mailbot check`", self.overrides, name, error)
            return self._packaged._render(name, context)

    def _render(self, name: str, context: dict[str, Any]) -> Rendered:
        template = self.env.get_template(f"{name}.j2")
        ctx = template.new_context(context)
        subject = "".join(template.blocks["subject"](ctx)).strip()
        body = "".join(template.blocks["body"](ctx))
        html = None
        if "html" in template.blocks:
            html_template = self.html_env.get_template(f"{name}.j2")
            html = _tidy("".join(html_template.blocks["html"](html_template.new_context(context))))
        return Rendered(subject=finish_subject(subject), body=finish_body(body), html=html)


def finish_subject(subject: str) -> str:
    """The rendered subject: elision at the seams, one line, no marks."""
    text = french.unmark(french.no_double_stop(french.elide(subject)))
    return " ".join(text.replace(french.HARD_BREAK, "").split())


def finish_body(body: str) -> str:
    """The rendered body as a person reads it: the seams between the template and its values mended (elision,
    one full stop, one greeting), French spacing, paragraphs filled, tidy. Applied once, to every template."""
    text = french.one_greeting(french.no_double_stop(french.elide(body)))
    # French spacing and filling never reach across an empty line (typography works line by line, a run of
    # client-wrapped lines stops at an empty line), so the body is finished in segments cut at empty lines: the
    # same result as finishing it whole. A segment without any value is the template's own words, the same in
    # every mail (the command sheet under Aideur's notices is kilobytes of it): it is finished once, then cached.
    # A value never holds an empty line (its line breaks carry HARD_BREAK), so no cut falls inside a value.
    segments: list[str] = []
    pending: list[str] = []  # consecutive blocks of the same kind, finished together
    pending_static = False
    for block in text.split("\n\n"):
        static = french.VALUE_START not in block and french.VALUE_END not in block
        if pending and static != pending_static:
            segments.append(_finish_segment("\n\n".join(pending), pending_static))
            pending = []
        pending.append(block)
        pending_static = static
    segments.append(_finish_segment("\n\n".join(pending), pending_static))
    return _tidy("\n\n".join(segments).replace(french.HARD_BREAK, ""))


def _finish_segment(text: str, static: bool) -> str:
    return _finish_static(text) if static else _finish_prose(french.unmark(text))


def _finish_prose(text: str) -> str:
    """French spacing, then paragraphs filled (HARD_BREAK marks still in: they are removed from the whole body)."""
    return wrap_paragraphs(french.typography_text(text))


# Only text without any value's mark, that is the templates' own words (every `{{ … }}` output is marked): their
# number is bounded by the templates, and a member's text is not kept here.
_finish_static = functools.lru_cache(maxsize=512)(_finish_prose)


def _environment(search: list[Path], *, autoescape: bool,
                 undefined: type[jinja2.Undefined] = jinja2.StrictUndefined) -> jinja2.Environment:
    env = jinja2.Environment(
        # The first directory holding a name wins, for includes too: an overridden partial (_signature_club.j2)
        # is the one every packaged template includes.
        loader=_ProseLoader([str(directory) for directory in search]),
        undefined=undefined,  # StrictUndefined: a missing variable is a bug, never a blank in a member's mail
        autoescape=autoescape,
        auto_reload=False,  # templates are read once: an edit while running cannot break a mail halfway
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # Every value of the plain text is marked, so that the seams between it and the template can be mended
        # (french.py); the HTML alternative is markup, left as it is.
        finalize=None if autoescape else french.mark_value,
    )
    env.filters["wrap"] = _wrap_filter
    env.filters["quote"] = quote_text
    env.filters["accord"] = french.accord
    env.filters["elide"] = french.elide_word
    env.filters["civilite"] = french.civilite
    return env


def override_files(directory: Path) -> list[Path]:
    """The operator's templates in MAILBOT_TEMPLATES_DIR (*.j2), sorted by name."""
    return sorted(path for path in directory.glob("*.j2") if path.is_file())


def override_problems(directory: Path, packaged: Path = TEMPLATES_DIR) -> dict[str, str]:
    """For each of the operator's templates that would not render as the packaged one does, why (in French, for
    `mailbot check`): a name mailbot never uses, a file that is not UTF-8 or not valid Jinja, a mail without its
    `subject` or `body` block, a variable mailbot does not give this template, an error when rendered."""
    problems: dict[str, str] = {}
    env = _environment([directory, packaged], autoescape=False)
    lenient = _environment([directory, packaged], autoescape=False, undefined=_Anything)
    for path in override_files(directory):
        problem = _override_problem(path, packaged, env, lenient)
        if problem:
            problems[path.name] = problem
    return problems


def _override_problem(path: Path, packaged: Path, env: jinja2.Environment, lenient: jinja2.Environment) -> str:
    original = packaged / path.name
    if not original.is_file():
        return "aucun modèle de mailbot ne porte ce nom : ce fichier ne serait jamais utilisé"
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return f"illisible en UTF-8 ({error})"
    try:
        template = env.get_template(path.name)
        used = jinja2.meta.find_undeclared_variables(env.parse(source))
    except jinja2.TemplateSyntaxError as error:
        return f"ligne {error.lineno} : {error.message}"
    except jinja2.TemplateError as error:
        return str(error)
    if not path.name.startswith("_"):  # a partial (_signature_club.j2) is included, it has no blocks of its own
        missing = [block for block in ("subject", "body") if block not in template.blocks]
        if missing:
            return "bloc(s) manquant(s) : " + ", ".join(missing)
    given = _given_variables(original.name, packaged, env)
    unknown = sorted(used - given - set(env.globals))
    if unknown:
        return ("variable(s) que mailbot ne donne pas à ce modèle : " + ", ".join(unknown)
                + " (celles du modèle d'origine : " + (", ".join(sorted(given)) or "aucune") + ")")
    try:  # every variable stands for anything: what fails now fails with any values
        probe = lenient.get_template(path.name)
        ctx = probe.new_context({})
        for block in ("subject", "body", "html"):
            if block in probe.blocks:
                "".join(probe.blocks[block](ctx))
        if path.name.startswith("_"):
            probe.render()
    except Exception as error:  # noqa: BLE001 - whatever the template raises is the operator's to fix
        return f"erreur au rendu : {error}"
    return ""


def _given_variables(name: str, packaged: Path, env: jinja2.Environment, seen: set[str] | None = None) -> set[str]:
    """The variables mailbot gives the packaged template `name`: those it and its included partials read."""
    seen = seen if seen is not None else set()
    seen.add(name)
    tree = env.parse((packaged / name).read_text(encoding="utf-8"))
    given = set(jinja2.meta.find_undeclared_variables(tree))
    for included in jinja2.meta.find_referenced_templates(tree):
        if included and included not in seen and (packaged / included).is_file():
            given |= _given_variables(included, packaged, env, seen)
    return given


class _Anything(jinja2.ChainableUndefined):
    """A stand-in value for checking an override: any attribute, call, comparison, sum or loop works on it."""


def _anything_same(self: _Anything, *args: Any, **kwargs: Any) -> _Anything:
    return self


def _anything_false(self: _Anything, other: Any) -> bool:
    return False


# Set after the class: Undefined declares these as failing (-> Never), which is exactly what the probe undoes.
for _name in ("__call__", "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
              "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__",
              "__neg__", "__pos__"):
    setattr(_Anything, _name, _anything_same)
for _name in ("__lt__", "__le__", "__gt__", "__ge__"):
    setattr(_Anything, _name, _anything_false)
for _name, _value in (("__int__", 0), ("__float__", 0.0)):
    setattr(_Anything, _name, lambda self, value=_value: value)


def _tidy(body: str) -> str:
    """No trailing spaces, at most one blank line in a row, one final newline."""
    # "-- " (with its space) is the signature separator clients recognise: keep it whole.
    lines = [line if line == "-- " else line.rstrip() for line in body.strip("\n").splitlines()]
    tidy: list[str] = []
    for line in lines:
        if not line and tidy and not tidy[-1]:
            continue
        tidy.append(line)
    return "\n".join(tidy) + "\n"


def wrap_text(text: str, width: int = LINE_WIDTH) -> str:
    """Wrap long lines for mail clients, keeping the writer's own line breaks and paragraphs."""
    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width or line.startswith(">"):  # quoted lines keep their shape
            out.append(line)
        else:
            out.extend(_wrap_line(line, width))
    return "\n".join(out)


def _wrap_filter(text: Any, width: int | None = None) -> Any:
    """The `wrap` filter of the templates. Without a width, nothing to do: the whole body is wrapped once, paragraph
    by paragraph, after rendering. With one (`{{ text | wrap(70) | quote }}`: quoted lines are never wrapped again),
    the text is filled now, keeping its writer's line breaks as the body's wrapping does."""
    if width is None:
        return text
    marked = "\n".join(line + french.HARD_BREAK for line in str(text).split("\n"))
    return wrap_paragraphs(marked, width, limit=width).replace(french.HARD_BREAK, "")


# Paragraph-aware wrapping, in two steps.
#
# 1. The templates' sources (`_ProseLoader`): an author wraps a paragraph by hand near 72 columns, and a value then
#    makes any line longer; wrapping each line alone leaves a word or two stranded in the middle of the paragraph
#    ("cette\nadresse\nn'est pas"). So, before Jinja compiles a template, the hand-wrapped lines of each paragraph are
#    joined into one (like GNU Mailman's `wrap`, which fills a paragraph as a whole and keeps lines starting with
#    whitespace as they are). A line break the author meant stays: around a blank line, an indented line (tables,
#    the command sheet, a profile), a list item, a quoted line, the signature, a "Champ : valeur" line, a line ending
#    with ":" (it introduces what follows), a Jinja tag alone on its line, and after a short line
#    ("Bien cordialement,\nClub Aide") unless the next line goes on with the same sentence (a lower-case start).
# 2. The rendered body (`wrap_paragraphs`): each prose line longer than LINE_WIDTH is filled at PARAGRAPH_WIDTH;
#    other lines are wrapped only past LINE_WIDTH. Line breaks inside a value (a member's message) are the writer's own and stay, unless
#    a line is long and stops mid-sentence (a mail client's hard wrap at 72): those lines are filled together.
_SHORT_LINE = 45
_LIST_ITEM = re.compile(r"^(?:[-*•–]|\d{1,3}[.)])\s")
_FIELD_LINE = re.compile(r"^[A-ZÀ-Ý][\w'’()/-]*(?:[ \u00a0][\w'’()/-]+){0,4}[ \u00a0]?:(?:\s|$)")
_URL_LINE = re.compile(r"^\s*<?(?:https?://|mailto:)\S+>?\s*$")
_RULE_LINE = re.compile(r"^(?:-{3,}|={3,}|_{3,}|\*{3,})")
_TAG_LINE = re.compile(r"^\s*(?:\{%(?:(?!%\}).)*%\}|\{#(?:(?!#\}).)*#\})+\s*$")
# A line that defines rather than says (a macro, a variable, an include): never joined to the text around it.
_DEFINITION_LINE = re.compile(r"^\s*\{%-?\s*(?:macro|endmacro|set|import|from|include|block|extends|call|filter)\b"
                              r"|\{%-?\s*endmacro\s*-?%\}\s*$")


def _structural(line: str) -> bool:
    """A line that keeps its own line breaks on both sides (nothing is joined to or from it)."""
    return (not line.strip() or line[0] in " \t>" or line == "-- " or bool(_LIST_ITEM.match(line))
            or bool(_URL_LINE.match(line)) or bool(_RULE_LINE.match(line)))


def _source_joins(line: str, following: str) -> bool:
    """Whether the break between two lines of a template's source is only the author's hand wrap."""
    if (_structural(line) or _structural(following) or _TAG_LINE.match(line) or _TAG_LINE.match(following)
            or _DEFINITION_LINE.search(line) or _DEFINITION_LINE.search(following) or _FIELD_LINE.match(following)):
        return False
    if line.rstrip().endswith(":"):  # it introduces what follows, unless the sentence goes on in lower case
        return following[:1].islower()
    return len(line.rstrip()) >= _SHORT_LINE or following[:1].islower()


_HTML_BLOCK = re.compile(r"\{%-?\s*block\s+html\b")
_END_BLOCK = re.compile(r"\{%-?\s*endblock\b")


def reflow_source(source: str) -> str:
    """A template's source with each hand-wrapped paragraph on one line (the `html` block is left as it is)."""
    out: list[str] = []
    in_html = False
    for line in source.split("\n"):
        if _HTML_BLOCK.search(line):
            in_html = True
        if not in_html and out and _source_joins(out[-1], line):
            out[-1] = out[-1].rstrip() + " " + line.strip()
        else:
            out.append(line)
        if in_html and _END_BLOCK.search(line):
            in_html = False
    return "\n".join(out)


class _ProseLoader(jinja2.FileSystemLoader):
    """The templates' loader: every source is reflowed (`reflow_source`) before Jinja compiles it."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        return reflow_source(source), filename, uptodate


def _client_wrapped(line: str, following: str) -> bool:
    """Inside a value: whether this line break is a mail client's hard wrap (a long line cut mid-sentence)."""
    # The cheap tests first (most lines are short or end a sentence), the regex ones last: same answer.
    if not line.endswith(french.HARD_BREAK):
        return False
    text = line[:-1].rstrip()
    return (len(text) >= _CLIENT_WRAP and not text.endswith((".", "!", "?", ":", ";", "…", "»", ")"))
            and not _structural(text) and not _structural(following) and not _FIELD_LINE.match(following))


_CLIENT_WRAP = 60  # a line this long (without its mark) and cut mid-sentence was wrapped by the writer's client


def _prose(line: str) -> bool:
    return not _structural(line)


# The profile and registration form's own lines ("Adresse postale : …"): the form reader reads a reply line by
# line, so a field whose label and value are long (an address, a list of skills) must stay on one line, or the
# member who replies with the form quoted would change the field to its first half.
_FORM_LINE = re.compile(r"^\s*(?:" + "|".join(re.escape(label) for label in sorted(FIELD_LABELS.values(), key=len,
                                                                                     reverse=True))
                        + r")[ \u00a0]*:")


def _form_line(line: str) -> bool:
    return bool(_FORM_LINE.match(line))


def wrap_paragraphs(text: str, width: int = PARAGRAPH_WIDTH, *, limit: int = LINE_WIDTH) -> str:
    """Fill each prose line longer than `limit` (a whole paragraph, once the sources are reflowed) at `width`
    columns; other lines are kept, wrapped only past `limit` (a table row keeps its shape). A word longer than the width (a URL) stays whole on its own line."""
    lines = text.split("\n")
    # Only a long line changes anything: one past `limit` is wrapped, one of _CLIENT_WRAP characters or more
    # (its mark included) may be a client's hard wrap and take the next lines with it. Every other line stays
    # as it is: it is copied without being looked at (most lines of a mail are short).
    shortest = min(limit, _CLIENT_WRAP)
    long_lines = [number for number, line in enumerate(lines) if len(line) > shortest]
    if not long_lines:
        return text
    out: list[str] = []
    done = 0  # lines[:done] are in `out`
    for first in long_lines:
        if first < done:  # already taken by the run of a client-wrapped line above
            continue
        out += lines[done:first]
        run = [lines[first]]
        done = first + 1
        while done < len(lines) and _client_wrapped(run[-1], lines[done]):
            run.append(lines[done])
            done += 1
        if len(run) == 1 and len(run[0]) <= limit:
            out.append(run[0])  # not past `limit`, and no client's hard wrap: kept as it is
        else:
            _fill_run(run, out, width, limit)
    out += lines[done:]
    return "\n".join(out)


def _fill_run(run: list[str], out: list[str], width: int, limit: int) -> None:
    """One line, or the lines a client wrapped, filled onto `out`."""
    joined = " ".join(part.rstrip(french.HARD_BREAK).strip() for part in run) if len(run) > 1 else run[0]
    hard = run[-1].endswith(french.HARD_BREAK)
    bare = joined.rstrip(french.HARD_BREAK)
    if len(bare) <= (width if len(run) > 1 else limit) or bare.startswith(">") or _form_line(bare):
        out.append(joined)
        return
    item = _LIST_ITEM.match(bare)
    if item:  # a list item too long for one line: its next lines are indented under its text
        hang = " " * len(item[0])
        lines = _wrap_line(hang + bare[len(item[0]):], width)
        out.extend([bare[: len(item[0])] + lines[0][len(hang):]] + lines[1:])
    else:
        out.extend(_wrap_line(bare, width if _prose(bare) else limit))
    if hard:
        out[-1] += french.HARD_BREAK


def _wrap_line(line: str, width: int) -> list[str]:
    """Greedy word wrap (textwrap's chunking costs milliseconds on a long request); a word longer than the
    width (a URL) stays whole on its own line, and the line's indentation is kept."""
    indent = line[: len(line) - len(line.lstrip())]
    room = max(width - len(indent), 20)
    # Break at spaces and tabs only: a no-break space (French « guillemets ») holds its words together.
    # One group, so that findall gives the lines themselves (no match objects): the longest piece of at most
    # `room` characters that a space, a tab or the end follows, else a word longer than `room` whole.
    pattern = _WRAP.get(room) or _WRAP.setdefault(
        room, re.compile(rf"([^ \t].{{0,{room - 1}}}(?=[ \t]|$)|[^ \t]+)[ \t]*"))
    pieces: list[str] = pattern.findall(line.strip())
    return [indent + piece for piece in pieces] if indent else pieces


_WRAP: dict[int, re.Pattern[str]] = {}


def excerpt(text: str, limit: int) -> str:
    """Someone's message for a notice, as they wrote it: its line breaks kept (a signature, an address, a list
    stay readable), blank lines and spaces tidied, cut at a word boundary with "…" past `limit` characters."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    kept = "\n".join(lines)
    kept = re.sub(r"\n{3,}", "\n\n", kept)
    if len(kept) <= limit:
        return kept
    cut = kept[: limit - 1]
    cut = cut[: max(cut.rfind(" "), cut.rfind("\n"))] if " " in cut or "\n" in cut else cut
    return cut.rstrip(",;: \n") + "…"


def quote_text(text: str) -> str:
    return "\n".join(("> " + line) if line else ">" for line in text.splitlines())


_TEXT_HEADERS = [("Content-Type", 'text/plain; charset="utf-8"'), ("Content-Transfer-Encoding", "quoted-printable")]
_HTML_HEADERS = [("Content-Type", 'text/html; charset="utf-8"'), ("Content-Transfer-Encoding", "quoted-printable")]


def new_message_id(prefix: str, domain: str) -> str:
    """<prefix.random@domain>: the routing token first, so that a reply's References lead back to it."""
    return f"<{prefix}.{secrets.token_hex(8)}@{domain}>"


def build_message(
    *,
    from_name: str,
    from_address: str,
    to: str,
    reply_to: str,
    rendered: Rendered,
    message_id: str,
    in_reply_to: str | None,
    references: Iterable[str],
    auto_submitted: str,
    date: datetime,
    zone: tzinfo = UTC,
    attachments: Iterable[tuple[Attachment, bytes]] = (),
) -> bytes:
    """The complete message, CRLF, 7-bit: RFC 2047 headers, quoted-printable UTF-8 body, RFC 2231 file names.

    The encodings are the email package's (Header, quoprimime, RFC 2231); only the assembly is done here,
    because its generator re-folds every header through Header objects and dominated the intake profile.

    With `rendered.html`, the text becomes multipart/alternative (text/plain first, text/html second, both
    quoted-printable UTF-8); with attachments too, that alternative is the first part of the multipart/mixed.
    Without it, the mail is exactly what it always was: one text/plain part, or text + attachments.
    """
    refs = [ref for ref in references if ref]
    headers = [
        ("From", formataddr((from_name, ascii_domain(from_address)), charset="utf-8")),
        ("To", ascii_domain(to)),
        ("Reply-To", reply_to),
        ("Subject", _encoded(rendered.subject, "Subject")),
        ("Date", format_datetime(date.replace(tzinfo=UTC).astimezone(zone))),  # the club's local time
        ("Message-ID", message_id),
    ]
    if in_reply_to:
        headers.append(("In-Reply-To", in_reply_to))
    if refs:
        headers.append(("References", CRLF_FOLD.join(refs)))
    # RFC 3834: mark automatic mail so that other robots do not answer it; the Microsoft header keeps
    # Outlook's out-of-office replies from coming back at us.
    headers += [("Auto-Submitted", auto_submitted), ("X-Auto-Response-Suppress", "All"), ("X-Mailer", "mailbot"),
                ("MIME-Version", "1.0")]
    body = _quoted_printable(rendered.body)
    if rendered.html is None:
        content_headers, content = _TEXT_HEADERS, body.encode("ascii")
    else:
        content_headers, content = _alternative(body, rendered.html)
    parts = list(attachments)
    if not parts:
        return _join(headers + content_headers, "") + content
    boundary = f"=_mailbot_{secrets.token_hex(12)}"
    chunks = [_join(headers + [("Content-Type", f'multipart/mixed; boundary="{boundary}"')],
                    "This is a multi-part message in MIME format.\r\n")]
    # Each delimiter is "CRLF--boundary": the CRLF belongs to the delimiter (RFC 2046 5.1.1), so every part is
    # followed by one more, and the text keeps its last line break.
    delimiter = f"\r\n--{boundary}\r\n".encode()
    chunks.append(delimiter[2:] + _join(content_headers, "") + content)
    for attachment, payload in parts:
        chunks.append(delimiter + _attachment_part(attachment, payload))
    chunks.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(chunks)


def _alternative(text_body: str, html: str) -> tuple[list[tuple[str, str]], bytes]:
    """The headers and body of a multipart/alternative: the plain text, then the HTML (clients show the last
    one they can display), each part in its own quoted-printable UTF-8."""
    boundary = f"=_mailbot_{secrets.token_hex(12)}"
    headers = [("Content-Type", f"multipart/alternative;{CRLF_FOLD}boundary=\"{boundary}\"")]
    delimiter = f"\r\n--{boundary}\r\n".encode()
    body = (delimiter[2:] + _join(_TEXT_HEADERS, text_body)
            + delimiter + _join(_HTML_HEADERS, _quoted_printable(html))
            + f"\r\n--{boundary}--\r\n".encode())
    return headers, body


CRLF_FOLD = "\r\n "


def _encoded(value: str, name: str) -> str:
    """RFC 2047: base64 encoded words of at most 42 bytes each (a line stays within 78) (never splitting a character), one per line."""
    if value.isascii() and len(value) + len(name) + 2 <= 78:
        return value
    words: list[str] = []
    chunk = b""
    for char in value:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > 42:
            words.append(chunk)  # type: ignore[arg-type]
            chunk = b""
        chunk += encoded
    words.append(chunk)  # type: ignore[arg-type]
    return CRLF_FOLD.join(f"=?utf-8?b?{base64.b64encode(word).decode()}?=" for word in words)  # type: ignore


# Quoted-printable exactly as the email package's quoprimime.body_encode(…, maxlinelen=76, eol="\r\n") writes it
# (every mail ever sent is byte for byte the same), done faster: its per-character translation of a body of several
# kilobytes cost most of the encoding. Bytes outside these are written =XX; each distinct one is replaced
# through the whole body at once (a French mail holds a dozen of them).
_QP_LITERAL = bytes(range(33, 127)).replace(b"=", b"") + b" \t\r\n"
_QP_LINE = 76  # the longest encoded line, its soft break "=" included


def _quoted_printable(text: str) -> str:
    data = text.replace("\r\n", "\n").encode("utf-8")
    if not data:
        return "\r\n"
    escaped = set(data.translate(None, _QP_LITERAL))
    if 61 in escaped:  # "=" first: the escapes written next hold one
        data = data.replace(b"=", b"=3D")
        escaped.discard(61)
    for byte in escaped:
        data = data.replace(bytes((byte,)), b"=%02X" % byte)
    lines: list[str] = []
    for line in data.decode("ascii").splitlines():
        if len(line) <= _QP_LINE and not line.endswith((" ", "\t")):
            lines.append(line)  # most lines: nothing to do
        else:
            _qp_soft_breaks(line, lines)
    if data.endswith((b"\r", b"\n")):
        lines.append("")
    encoded = "\r\n".join(lines)
    return encoded if encoded.endswith("\r\n") else encoded + "\r\n"


def _qp_soft_breaks(line: str, lines: list[str]) -> None:
    """An encoded line cut into pieces of at most 76 characters, each ending with a soft break "=" (never inside
    an escape), and a space or tab at its end escaped, as quoprimime does."""
    start = 0
    last = len(line) - 1 - _QP_LINE  # a piece starts at most here, or the rest fits on one line
    while start <= last:
        stop = start + _QP_LINE - 1
        # A cut inside an escape "=XX": the piece ends with the escape's "=" as its soft break, and the next
        # piece starts with the whole escape.
        if line[stop - 2] == "=":
            lines.append(line[start:stop - 1])
            start = stop - 2
        elif line[stop - 1] == "=":
            lines.append(line[start:stop])
            start = stop - 1
        else:
            lines.append(line[start:stop] + "=")
            start = stop
    if not line.endswith((" ", "\t")):
        lines.append(line[start:])
        return
    blank = line[-1]
    room = start - last
    if room >= 3:  # the escaped space fits on this line
        lines.append(line[start:-1] + f"={ord(blank):02X}")
    elif room == 2:  # the space itself and a soft break fit; the next line is empty
        lines.append(line[start:-1] + blank + "=")
        lines.append("")
    else:  # only a soft break fits: the escaped space alone on the next line
        lines.append(line[start:-1] + "=")
        lines.append(f"={ord(blank):02X}")


def _attachment_part(attachment: Attachment, payload: bytes) -> bytes:
    maintype, _, subtype = attachment.content_type.partition("/")
    ctype = f"{maintype or 'application'}/{subtype or 'octet-stream'}"
    name = attachment.filename
    if name.isascii() and '"' not in name and "\\" not in name:
        parameter = f'="{name}"'
    else:
        parameter = f"*={encode_rfc2231(name, 'utf-8')}"
    # name= in Content-Type too: older Outlook versions look only there.
    headers = [("Content-Type", f"{ctype};{CRLF_FOLD}name{parameter}"), ("Content-Transfer-Encoding", "base64"),
               ("Content-Disposition", f"attachment;{CRLF_FOLD}filename{parameter}")]
    return _join(headers, base64.encodebytes(payload).decode("ascii").replace("\n", "\r\n"))


def _join(headers: list[tuple[str, str]], body: str) -> bytes:
    # Every header is ASCII (RFC 2047 words, A-label domains) except an address whose local part is not
    # (josé.garcía@…): RFC 6532 puts it in UTF-8 as it is, and the sender then needs SMTPUTF8.
    block = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return (block + "\r\n" + body).encode("utf-8")


def ascii_domain(address: str) -> str:
    """An address with its domain in ASCII (IDNA A-label: exemple-é.fr → xn--exemple--c1a.fr), which every server
    takes; the local part is left as it is (it has no ASCII form: only SMTPUTF8 carries josé.garcía@…)."""
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address  # not a valid IDN: left for the server to refuse, with an alert to Aideur


def needs_smtputf8(address: str) -> bool:
    """Whether an address can only travel with SMTPUTF8 (RFC 6531): its local part is not ASCII."""
    return not ascii_domain(address).isascii()
