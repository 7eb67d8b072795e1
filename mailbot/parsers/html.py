"""HTML to readable plain text for members (no markdown noise), built on lxml."""
from __future__ import annotations

import re

from lxml import etree
from lxml import html as lxml_html

_SKIP = {"script", "style", "head", "title", "meta", "link", "noscript", "template", "xml", "o:p"}
_BLOCK = {
    "p", "div", "section", "article", "header", "footer", "aside", "nav", "main", "table", "tr",
    "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "address", "form",
    "fieldset", "center", "hr", "blockquote", "li", "body", "html", "figure", "figcaption",
}
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)
# Runs of white space, each written as one space: a lone space is already that, so only runs of two or more and
# runs holding another white space character are matched (most text nodes hold hundreds of lone spaces, each a
# match and a replacement for r"[ \t\r\n\f\v]+"; same result).
_SPACES = re.compile(r" [ \t\r\n\f\v]+|[\t\r\n\f\v][ \t\r\n\f\v]*")
# r"\n{3,}" with its newlines spelled out: the regex engine then searches for that literal prefix.
_BLANK_RUNS = re.compile(r"\n\n\n+")


class _Writer:
    """Accumulates inline text, emitting newlines only where a block boundary asks for them."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.current: list[str] = []
        self.quote = 0
        self.pending_breaks = 0

    def text(self, value: str, pre: bool = False) -> None:
        if not value:
            return
        if pre:
            parts = value.replace("\r\n", "\n").split("\n")
            for i, part in enumerate(parts):
                if i:
                    self.newline()
                self._put(part)
            return
        value = _SPACES.sub(" ", value.replace("\xa0", " "))
        if not self.current or "".join(self.current).endswith(" "):
            value = value.lstrip(" ") if not self.current else value
        if value:
            self._put(value)

    def _put(self, value: str) -> None:
        if self.pending_breaks:
            self._flush_breaks()
        self.current.append(value)

    def newline(self) -> None:
        self.lines.append(self._line())
        self.current = []

    def block(self, blank: bool = False) -> None:
        """A block boundary: end the current line; ask for one blank line before the next text if blank."""
        if self.current:
            self.newline()
        self.pending_breaks = max(self.pending_breaks, 2 if blank else 1)

    def _flush_breaks(self) -> None:
        if self.pending_breaks == 2 and self.lines and self.lines[-1].strip(" >"):
            prefix = self._prefix()
            # Inside a quote the blank separator keeps the ">" only when the previous line is in the same quote.
            self.lines.append(prefix.rstrip() if prefix and self.lines[-1].startswith(prefix) else "")
        self.pending_breaks = 0

    def _prefix(self) -> str:
        return "> " * self.quote

    def _line(self) -> str:
        return (self._prefix() + "".join(self.current).strip()).rstrip()

    def result(self) -> str:
        if self.current:
            self.newline()
        text = "\n".join(self.lines)
        return _BLANK_RUNS.sub("\n\n", text).strip("\n")


def _walk(node: etree._Element, out: _Writer, pre: bool) -> None:
    tag = node.tag if isinstance(node.tag, str) else ""
    tag = tag.lower().rsplit("}", 1)[-1] if tag else ""
    if not isinstance(node.tag, str):  # comments, processing instructions
        out.text(node.tail or "", pre)
        return
    if tag in _SKIP:
        out.text(node.tail or "", pre)
        return
    is_block = tag in _BLOCK
    if tag == "br":
        out.newline()
        out.text(node.tail or "", pre)
        return
    if is_block:
        out.block(blank=tag in {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote", "pre", "hr"})
    if tag == "blockquote":
        out.quote += 1
    if tag == "li":
        out.text("- ")
    if tag == "hr":
        out.text("-" * 20)
    if tag in ("td", "th") and out.current:
        out.text(" ")
    if tag == "img":
        alt = (node.get("alt") or "").strip()
        if alt:
            out.text(f"[{alt}]")
    out.text(node.text or "", pre or tag == "pre")
    for child in node:
        _walk(child, out, pre or tag == "pre")
    if tag == "a":
        _link_suffix(node, out)
    if tag == "blockquote":
        out.block(blank=True)
        out.quote -= 1
    if is_block:
        out.block(blank=tag in {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote", "pre"})
    out.text(node.tail or "", pre)


def _link_suffix(node: etree._Element, out: _Writer) -> None:
    """Keep the target readable: "label (https://…)" unless the label already is the address."""
    href = (node.get("href") or "").strip()
    if not href or href.startswith(("#", "javascript:", "cid:")):
        return
    label = " ".join("".join(node.itertext()).split())  # the text_content() of an HtmlElement, typed
    target = href[7:] if href.lower().startswith("mailto:") else href
    if not label or target.rstrip("/") in label or label in target and len(label) > 12:
        if not label:
            out.text(target)
        return
    out.text(f" ({target})")


def html_to_text(source: str) -> str:
    """Readable text of an HTML body: paragraphs, line breaks, lists as "- ", quotes as "> ", links kept."""
    if not source or not source.strip():
        return ""
    source = _XML_DECL.sub("", source)
    try:
        root = lxml_html.document_fromstring(source)
    except (etree.ParserError, ValueError):
        return " ".join(re.sub(r"<[^>]*>", " ", source).split())
    out = _Writer()
    _walk(root, out, False)
    return out.result()
