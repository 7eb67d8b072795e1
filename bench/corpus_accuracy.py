"""Accuracy of mailbot.parsers against the labelled corpus (and, with --alternatives, of the libraries compared).

Usage: python bench/corpus_accuracy.py [--corpus DIR-or-FILE.json]... [--language fr] [--json] [--alternatives] [--html]
       [--verbose]

Each corpus is reported apart: parse rate and crashes, kind precision/recall, bounced recipients, attachment
names, and reply text (exact, and "author's words kept with no quote leaked") overall, by layout (above, below,
interleaved) and by language. A category the corpus does not have is reported as absent.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from email import message_from_bytes
from email.policy import compat32
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailbot.parsers import (
    MailKind,
    ParseError,
    mime,
    parse_mail,
    split_reply,
)
from mailbot.parsers.html import html_to_text

# The corpus lives outside the repository: its path comes from the same setting as the tests'.
DEFAULT_CORPUS = Path(os.environ["MAILBOT_TEST_CORPUS"]) if os.environ.get("MAILBOT_TEST_CORPUS") else None


def collapse(text: str | None) -> str:
    return " ".join((text or "").split())


def load(corpus: Path) -> list[dict]:
    """The labelled entries of one corpus: a directory with manifest.json, a manifest file, or a JSON list of
    reply cases (`text`, `expected` or `reply_text`, optional `layout`, `language`, `signature`, `id`), as the
    French reply sets of tests/data/replies_fr/ are written."""
    path = corpus / "manifest.json" if corpus.is_dir() else corpus
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        return data.get("files") or []
    entries = []
    for index, case in enumerate(data):
        entries.append({
            "file": case.get("id") or case.get("file") or f"case-{index}", "category": "reply-bodies",
            "format": "inline-text", "text": case.get("text", ""),
            "reply_text": case.get("reply_text", case.get("expected")), "signature": case.get("signature"),
            "layout": case.get("layout"), "language": case.get("language"), "client": case.get("client"),
        })
    return entries


def corpus_root(corpus: Path) -> Path:
    return corpus if corpus.is_dir() else corpus.parent


def ratio(ok: int, n: int) -> str:
    """"ok/n (pct)", or "absent" when the corpus has no such case: no figure is made up from nothing."""
    return f"{ok}/{n} ({ok / n:.0%})" if n else "absent"


def pr(tp: int, fp: int, fn: int) -> str:
    if tp + fp + fn == 0:
        return "absent (no such mail in this corpus, none detected)"
    p = f"{tp / (tp + fp):.3f}" if tp + fp else "n/a"
    r = f"{tp / (tp + fn):.3f}" if tp + fn else "n/a (none labelled)"
    return f"precision {p} recall {r} (tp={tp} fp={fp} fn={fn})"


def expected_recipients(entry: dict) -> set[str]:
    many = entry.get("bounced_recipients") or [entry["bounced_recipient"]]
    return {a.strip().lower() for a in many}


def expected_filenames(entry: dict) -> list[str]:
    return sorted(mime.sanitise_filename(a["filename"], a.get("content_type", ""), 0)
                  for a in entry.get("attachments") or [] if a.get("filename"))


def reply_input(corpus: Path, entry: dict) -> str:
    """Text handed to a reply splitter: inline cases and body-only fixtures as they are, .eml through our MIME
    decoding."""
    if "text" in entry:
        return entry["text"]
    path = corpus_root(corpus) / entry["file"]
    if entry.get("format") == "body-only-text":
        return path.read_text(encoding="utf-8")
    return parse_mail(path.read_bytes()).text


# Where the quoted part of a reply starts when it has no ">" marks: an attribution or a header block.
_QUOTE_START = re.compile(
    r"^\s*(?:-{2,}\s*(?:original message|message d'origine|forwarded message|message transféré)|"
    r"(?:de|from|von|van)\s*:\s*\S.*|_{10,}|.*(?:a écrit|wrote|schrieb|schreef|escribió|ha scritto|escreveu)\s*:?\s*)$",
    re.IGNORECASE)


def layout_of(entry: dict, text: str) -> str:
    """The label when there is one; else where the author's lines stand against the quoted ones."""
    if entry.get("layout"):
        return str(entry["layout"])
    reply = collapse(entry.get("reply_text"))
    if not reply:
        return "empty"
    lines = text.split("\n")
    quoted = [i for i, line in enumerate(lines) if line.lstrip().startswith(">")]
    if not quoted:
        start = next((i for i, line in enumerate(lines) if _QUOTE_START.match(line)), None)
        if start is None:
            return "no quote"
        quoted = list(range(start + 1, len(lines)))
    own = [i for i, line in enumerate(lines) if collapse(line) and not line.lstrip().startswith(">")
           and collapse(line) in reply]
    if not own or not quoted:
        return "no quote"
    if max(own) < min(quoted):
        return "above"
    if min(own) > max(quoted):
        return "below"
    return "interleaved"


def kept_no_leak(got: str, entry: dict) -> bool:
    """The author's words all kept, and no line from elsewhere (quote, attribution, footer) in what came out.

    Every word of the labelled reply is in the output (in order), and every output line is part of the
    labelled reply or signature: a leaked quote fails the second test even when the reply is whole.
    """
    want = collapse(entry.get("reply_text")).split()
    words = collapse(got).split()
    position = 0
    for word in words:
        if position < len(want) and word == want[position]:
            position += 1
    if position < len(want):
        return False
    allowed = collapse((entry.get("reply_text") or "") + " " + (entry.get("signature") or ""))
    return all(collapse(line) in allowed for line in got.split("\n") if collapse(line))


def evaluate_ours(corpus: Path, files: list[dict], verbose: bool) -> dict:
    stats: dict = {"crashes": 0, "parse_errors": 0, "mails": 0, "rate": None}
    counts: Counter = Counter()
    root = corpus_root(corpus)
    mails = [e for e in files if e.get("format") == "eml"]
    start = time.perf_counter()
    parsed = {}
    for entry in mails:
        raw = (root / entry["file"]).read_bytes()
        try:
            parsed[entry["file"]] = parse_mail(raw)
        except ParseError:
            stats["parse_errors"] += 1
        except Exception as exc:  # noqa: BLE001 - counted, this is what the bench is for
            stats["crashes"] += 1
            print(f"CRASH {entry['file']}: {type(exc).__name__}: {exc}")
    elapsed = time.perf_counter() - start
    stats["mails"] = len(mails)
    stats["rate"] = len(mails) / elapsed if mails and elapsed else None
    labels = (("auto", "is_auto_reply", MailKind.AUTO_REPLY), ("bounce", "is_bounce", MailKind.BOUNCE),
              ("bulk", "is_bulk", MailKind.BULK))
    stats["labelled"] = {label: any(key in e for e in mails) for label, key, _ in labels}
    for entry in mails:
        mail = parsed.get(entry["file"])
        if mail is None:
            continue
        for label, key, kind in labels:
            if key not in entry:
                continue
            want = bool(entry[key])
            got = mail.kind is kind
            counts[f"{label}_{'tp' if want and got else 'fp' if got else 'fn' if want else 'tn'}"] += 1
            if verbose and want != got:
                print(f"  {label} {'FN' if want else 'FP'} {entry['file']} ({mail.kind.value}: {mail.kind_reason})")
        if entry.get("is_bounce") and (entry.get("bounced_recipient") or entry.get("bounced_recipients")):
            ok = expected_recipients(entry) == {a.lower() for a in mail.bounced_recipients}
            counts["rcpt_ok"] += ok
            counts["rcpt_n"] += 1
            if verbose and not ok:
                print(f"  rcpt {entry['file']}: got {mail.bounced_recipients} want {expected_recipients(entry)}")
        if "has_attachments" in entry:
            want_att = bool(entry.get("has_attachments"))
            counts["att_ok"] += want_att == bool(mail.attachments)
            counts["att_n"] += 1
            if verbose and want_att != bool(mail.attachments):
                print(f"  attachments {entry['file']}: got {[a.filename for a in mail.attachments]} want {want_att}")
        names = expected_filenames(entry)
        if names:
            got_names = sorted(a.filename for a in mail.attachments if not a.filename.startswith("part-"))
            counts["name_ok"] += got_names == names
            counts["name_n"] += 1
            if verbose and got_names != names:
                print(f"  filenames {entry['file']}: got {got_names} want {names}")
    stats["counts"] = counts
    stats["reply"] = evaluate_replies(corpus, files, "ours", lambda text: split_reply(text), verbose)
    return stats


LAYOUTS = ("above", "below", "interleaved")


def evaluate_replies(corpus: Path, files: list[dict], name: str,
                     splitter: Callable[[str], tuple[str, str | None]], verbose: bool,
                     language: str = "") -> dict:
    """Per group (overall, category, layout, language): [exact, kept with no leak, signature right, n]."""
    groups: dict[str, list[int]] = {}
    total_time = 0.0
    calls = 0
    for entry in files:
        if entry.get("reply_text") is None or entry.get("category") not in ("replies", "reply-bodies"):
            continue
        try:
            text = reply_input(corpus, entry)
        except ParseError:
            continue
        t0 = time.perf_counter()
        try:
            new, sig = splitter(text)
        except Exception as exc:  # noqa: BLE001
            new, sig = f"<crash {exc}>", None
        total_time += time.perf_counter() - t0
        calls += 1
        exact = collapse(new) == collapse(entry["reply_text"])
        whole = kept_no_leak(new or "", entry)
        sig_ok = sig is not None and collapse(sig) == collapse(entry.get("signature"))
        keys = ("overall", "category " + entry["category"], "layout " + layout_of(entry, text),
                "language " + (entry.get("language") or language or "unlabelled"))
        for key in keys:
            row = groups.setdefault(key, [0, 0, 0, 0])
            row[0] += exact
            row[1] += whole
            row[2] += sig_ok
            row[3] += 1
        if verbose and not exact:
            print(f"  [{name}] reply {entry['file']} ({keys[2]}): got {collapse(new)[:90]!r}")
    for layout in LAYOUTS:
        groups.setdefault("layout " + layout, [0, 0, 0, 0])
    return {"groups": groups, "rate": calls / total_time if total_time else None}


def print_replies(name: str, res: dict, has_signature: bool = True) -> None:
    groups = res["groups"]
    order = sorted(groups, key=lambda k: (k != "overall", k.split(" ")[0], k))
    for key in order:
        exact, whole, sig_ok, n = groups[key]
        line = f"  {name:<22} {key:<26} exact {ratio(exact, n):<14} kept-no-leak {ratio(whole, n)}"
        if has_signature and n:
            line += f", signature {sig_ok}/{n}"
        print(line)
    if res["rate"]:
        print(f"  {name:<22} speed {res['rate']:.0f} texts/s")


def alternatives(corpus: Path, files: list[dict], verbose: bool) -> None:
    print("\n== reply splitting: alternatives (same decoded text as input) ==")
    try:
        from talon import quotations
        from talon.signature.bruteforce import extract_signature

        def talon_split(text: str) -> tuple[str, str | None]:
            reply = quotations.extract_from_plain(text)
            body, sig = extract_signature(reply)
            return body, sig or ""

        print_replies("talon (+bruteforce sig)", evaluate_replies(corpus, files, "talon", talon_split, verbose))
    except ImportError as exc:
        print("  talon not installed:", exc)
    try:
        from mailparser_reply import EmailReplyParser as MPR

        parser = MPR(languages=["en", "fr", "de", "da", "no"])

        def mpr_split(text: str) -> tuple[str, str | None]:
            mail = parser.read(text)
            reply = mail.replies[0] if mail.replies else None
            if reply is None:
                return "", ""
            return reply.body, reply.signatures or ""

        print_replies("mail-parser-reply", evaluate_replies(corpus, files, "mpr", mpr_split, verbose))
    except ImportError as exc:
        print("  mail-parser-reply not installed:", exc)
    try:
        from email_reply_parser import EmailReplyParser as ERP

        def erp_split(text: str) -> tuple[str, str | None]:
            return ERP.parse_reply(text), None

        print_replies("email-reply-parser", evaluate_replies(corpus, files, "erp", erp_split, verbose), False)
    except ImportError as exc:
        print("  email-reply-parser not installed:", exc)

    print("\n== bounces: flufl.bounce (detection = any failure found) ==")
    import logging

    logging.getLogger("flufl.bounce").disabled = True  # its detectors log tracebacks on odd From headers
    try:
        from flufl.bounce import all_failures, scan_message
    except ImportError as exc:
        print("  flufl.bounce not installed:", exc)
        return
    tp = fp = fn = 0
    ok = n = 0
    t0 = time.perf_counter()
    mails = [e for e in files if e.get("format") == "eml" and "is_bounce" in e]
    for entry in mails:
        msg = message_from_bytes((corpus_root(corpus) / entry["file"]).read_bytes(), policy=compat32)
        try:
            found = {a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a) for a in scan_message(msg)}
            temporary, permanent = all_failures(msg)
            found |= {a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a) for a in temporary | permanent}
        except Exception:  # noqa: BLE001
            found = set()
        got = bool(found)
        tp += got and entry["is_bounce"]
        fp += got and not entry["is_bounce"]
        fn += entry["is_bounce"] and not got
        if entry["is_bounce"] and entry.get("bounced_recipient"):
            n += 1
            ok += {f.lower() for f in found} == expected_recipients(entry)
    rate = len(mails) / max(time.perf_counter() - t0, 1e-9)
    print(f"  flufl.bounce is_bounce {pr(tp, fp, fn)}")
    print(f"  flufl.bounce bounced_recipient exact {ratio(ok, n)}; {rate:.0f} mails/s")


def html_comparison(corpus: Path, files: list[dict]) -> None:
    """No labels for HTML text: measure agreement with the text/plain alternative of the same mail,
    markdown noise, links kept, and speed."""
    import re

    converters: dict[str, Callable[[str], str]] = {"ours (lxml walk)": html_to_text}
    try:
        import html2text

        def h2t(src: str) -> str:
            h = html2text.HTML2Text()
            h.body_width = 0
            h.ignore_images = True
            h.ignore_emphasis = True
            return h.handle(src)

        converters["html2text"] = h2t
    except ImportError:
        pass
    try:
        from bs4 import BeautifulSoup

        converters["bs4 get_text"] = lambda src: BeautifulSoup(src, "lxml").get_text("\n")
    except ImportError:
        pass
    try:
        import lxml.html

        converters["lxml text_content"] = lambda src: lxml.html.document_fromstring(src).text_content() if src.strip() else ""
    except ImportError:
        pass
    samples: list[tuple[str, str, list[str]]] = []
    for entry in files:
        if entry.get("format") != "eml" or entry.get("category") not in ("html", "charsets", "replies", "plain"):
            continue
        msg = mime.load((corpus_root(corpus) / entry["file"]).read_bytes())
        html = plain = ""
        for part in msg.walk():
            ctype = mime.content_type(part)
            if ctype == "text/html" and not html:
                html = mime.decode_bytes(mime.payload_bytes(part), part.get_content_charset())
            elif ctype == "text/plain" and not plain and not mime.raw_filename(part):
                plain = mime.part_text(part)
        if html:
            hrefs = [h for h in re.findall(r'href=["\']?(https?://[^"\'\s>]+)', html)]
            samples.append((html, plain, hrefs))
    print(f"\n== HTML to text on {len(samples)} HTML parts (corpus html/, charsets/, replies/, plain/) ==")
    for name, conv in converters.items():
        sim = []
        noise = links = links_n = 0
        t0 = time.perf_counter()
        outs = []
        for html, _, _ in samples:
            try:
                outs.append(conv(html))
            except Exception:  # noqa: BLE001
                outs.append("")
        rate = len(samples) / (time.perf_counter() - t0)
        for out, (_, plain, hrefs) in zip(outs, samples, strict=False):
            noise += len(re.findall(r"\*\*|\\[_\-*.#\[\]]|^#+ |\]\(", out, re.MULTILINE))
            links += sum(1 for h in set(hrefs) if h in out)
            links_n += len(set(hrefs))
            if plain.strip():
                a, b = set(collapse(out).lower().split()), set(collapse(plain).lower().split())
                sim.append(len(a & b) / len(a | b) if a | b else 1.0)
        mean = sum(sim) / len(sim) if sim else 0
        print(f"  {name:<18} word-overlap with text/plain {mean:.3f} (n={len(sim)}), markdown noise {noise}, "
              f"links kept {links}/{links_n}, {rate:.0f} parts/s")


def figures(corpus: Path, stats: dict) -> dict:
    """The figures of one corpus as data (for --json and the tests); None where the corpus has no such case."""
    c = stats["counts"]

    def share(ok: int, n: int) -> float | None:
        return ok / n if n else None

    def precision_recall(label: str) -> dict | None:
        tp, fp, fn = c[f"{label}_tp"], c[f"{label}_fp"], c[f"{label}_fn"]
        if not stats["labelled"][label]:
            return None
        return {"precision": share(tp, tp + fp), "recall": share(tp, tp + fn), "tp": tp, "fp": fp, "fn": fn}

    return {
        "corpus": str(corpus), "mails": stats["mails"], "crashes": stats["crashes"],
        "parse_errors": stats["parse_errors"], "mails_per_s": stats["rate"],
        "auto_reply": precision_recall("auto"), "bounce": precision_recall("bounce"), "bulk": precision_recall("bulk"),
        "bounced_recipient": share(c["rcpt_ok"], c["rcpt_n"]), "has_attachments": share(c["att_ok"], c["att_n"]),
        "attachment_names": share(c["name_ok"], c["name_n"]),
        "replies": {key: {"exact": share(row[0], row[3]), "kept_no_leak": share(row[1], row[3]), "n": row[3]}
                    for key, row in stats["reply"]["groups"].items()},
    }


def report(corpus: Path, stats: dict) -> None:
    c = stats["counts"]
    print(f"== mailbot.parsers on {corpus} ==")
    if stats["mails"]:
        print(f"  parse rate {stats['rate']:.0f} mails/s on {stats['mails']} mails, crashes {stats['crashes']}, "
              f"ParseError {stats['parse_errors']}")
    else:
        print("  mails (.eml): absent")
    for label, title in (("auto", "is_auto_reply"), ("bounce", "is_bounce"), ("bulk", "is_bulk")):
        if stats["labelled"][label]:
            print(f"  {title:<14}{pr(c[label + '_tp'], c[label + '_fp'], c[label + '_fn'])}")
        else:
            print(f"  {title:<14}absent (not labelled in this corpus)")
    print(f"  bounced_recipient exact set {ratio(c['rcpt_ok'], c['rcpt_n'])}")
    print(f"  has_attachments {ratio(c['att_ok'], c['att_n'])}; attachment filenames {ratio(c['name_ok'], c['name_n'])}")
    if not stats["reply"]["groups"].get("overall"):
        print("  replies: absent")
    print_replies("ours", stats["reply"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", type=Path, action="append",
                    help="a corpus: a directory with manifest.json, or a JSON list of reply cases; repeat for "
                         "several, each reported apart (default: $MAILBOT_TEST_CORPUS)")
    ap.add_argument("--language", default="", help="language of the reply cases that do not say (e.g. fr)")
    ap.add_argument("--alternatives", action="store_true", help="also measure talon, mail-parser-reply, "
                    "email-reply-parser and flufl.bounce")
    ap.add_argument("--html", action="store_true", help="compare HTML→text converters")
    ap.add_argument("--json", action="store_true", help="the figures as a JSON array, one object per corpus")
    ap.add_argument("--verbose", "-v", action="store_true", help="list every miss")
    args = ap.parse_args(argv)
    corpora = args.corpus or ([DEFAULT_CORPUS] if DEFAULT_CORPUS else [])
    usable = [c for c in corpora if (c / "manifest.json").is_file() or c.is_file()]
    if not usable:
        print("no corpus: give --corpus DIR (with manifest.json) or FILE.json, or set MAILBOT_TEST_CORPUS; skipped")
        return 0
    results = []
    crashes = 0
    for corpus in usable:
        files = load(corpus)
        stats = evaluate_ours(corpus, files, args.verbose)
        if args.language:
            stats["reply"] = evaluate_replies(corpus, files, "ours", lambda text: split_reply(text), False,
                                              args.language)
        crashes += stats["crashes"]
        if args.json:
            results.append(figures(corpus, stats))
            continue
        report(corpus, stats)
        if args.alternatives:
            alternatives(corpus, files, args.verbose)
        if args.html:
            html_comparison(corpus, files)
        print()
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
