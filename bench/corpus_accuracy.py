"""Accuracy of mailbot.parsers against the labelled corpus (and, with --alternatives, of the libraries compared).

Usage: python bench/corpus_accuracy.py [--alternatives] [--html] [--corpus DIR] [--verbose]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from email import message_from_bytes
from email.policy import compat32
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailbot.parsers import MailKind, ParseError, parse_mail, split_reply  # noqa: E402
from mailbot.parsers import mime  # noqa: E402
from mailbot.parsers.html import html_to_text  # noqa: E402

# The corpus lives outside the repository: its path comes from the same setting as the tests'.
DEFAULT_CORPUS = Path(os.environ["MAILBOT_TEST_CORPUS"]) if os.environ.get("MAILBOT_TEST_CORPUS") else None


def collapse(text: str | None) -> str:
    return " ".join((text or "").split())


def load(corpus: Path) -> list[dict]:
    return json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))["files"]


def pr(tp: int, fp: int, fn: int) -> str:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return f"precision {p:.3f} recall {r:.3f} (tp={tp} fp={fp} fn={fn})"


def expected_recipients(entry: dict) -> set[str]:
    many = entry.get("bounced_recipients") or [entry["bounced_recipient"]]
    return {a.strip().lower() for a in many}


def expected_filenames(entry: dict) -> list[str]:
    return sorted(mime.sanitise_filename(a["filename"], a["content_type"], 0)
                  for a in entry.get("attachments") or [] if a.get("filename"))


def reply_input(corpus: Path, entry: dict) -> str:
    """Text handed to a reply splitter: body-only fixtures as they are, .eml through our MIME decoding."""
    path = corpus / entry["file"]
    if entry["format"] == "body-only-text":
        return path.read_text(encoding="utf-8")
    return parse_mail(path.read_bytes()).text


def evaluate_ours(corpus: Path, files: list[dict], verbose: bool) -> dict:
    stats: dict = {"crashes": 0, "parse_errors": 0}
    counts = Counter()
    mails = [e for e in files if e["format"] == "eml"]
    start = time.perf_counter()
    parsed = {}
    for entry in mails:
        raw = (corpus / entry["file"]).read_bytes()
        try:
            parsed[entry["file"]] = parse_mail(raw)
        except ParseError:
            stats["parse_errors"] += 1
        except Exception as exc:  # noqa: BLE001 - counted, this is what the bench is for
            stats["crashes"] += 1
            print(f"CRASH {entry['file']}: {type(exc).__name__}: {exc}")
    elapsed = time.perf_counter() - start
    stats["rate"] = len(mails) / elapsed
    for entry in mails:
        mail = parsed.get(entry["file"])
        if mail is None:
            continue
        for label, kind in (("auto", MailKind.AUTO_REPLY), ("bounce", MailKind.BOUNCE)):
            want = entry["is_auto_reply"] if label == "auto" else entry["is_bounce"]
            got = mail.kind is kind
            counts[f"{label}_{'tp' if want and got else 'fp' if got else 'fn' if want else 'tn'}"] += 1
            if verbose and want != got:
                print(f"  {label} {'FN' if want else 'FP'} {entry['file']} ({mail.kind.value}: {mail.kind_reason})")
        if entry["is_bounce"] and entry.get("bounced_recipient"):
            ok = expected_recipients(entry) == {a.lower() for a in mail.bounced_recipients}
            counts["rcpt_ok"] += ok
            counts["rcpt_n"] += 1
            if verbose and not ok:
                print(f"  rcpt {entry['file']}: got {mail.bounced_recipients} want {expected_recipients(entry)}")
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


def evaluate_replies(corpus: Path, files: list[dict], name: str,
                     splitter: Callable[[str], tuple[str, str | None]], verbose: bool) -> dict:
    result: dict = {}
    total_time = 0.0
    calls = 0
    for category in ("replies", "reply-bodies"):
        ok = sig_ok = n = 0
        for entry in files:
            if entry["category"] != category or entry.get("reply_text") is None:
                continue
            text = reply_input(corpus, entry)
            t0 = time.perf_counter()
            try:
                new, sig = splitter(text)
            except Exception as exc:  # noqa: BLE001
                new, sig = f"<crash {exc}>", None
            total_time += time.perf_counter() - t0
            calls += 1
            n += 1
            good = collapse(new) == collapse(entry["reply_text"])
            ok += good
            if sig is not None:
                sig_ok += collapse(sig) == collapse(entry.get("signature"))
            if verbose and not good:
                print(f"  [{name}] reply {entry['file']}: got {collapse(new)[:90]!r}")
        result[category] = (ok, sig_ok, n)
    result["rate"] = calls / total_time if total_time else float("inf")
    return result


def print_replies(name: str, res: dict, has_signature: bool = True) -> None:
    for category in ("replies", "reply-bodies"):
        ok, sig_ok, n = res[category]
        sig = f", signature {sig_ok}/{n}" if has_signature else ""
        print(f"  {name:<22} {category:<13} reply_text {ok}/{n} ({ok / n:.0%}){sig}")
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
    mails = [e for e in files if e["format"] == "eml"]
    for entry in mails:
        msg = message_from_bytes((corpus / entry["file"]).read_bytes(), policy=compat32)
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
    rate = len(mails) / (time.perf_counter() - t0)
    print(f"  flufl.bounce is_bounce {pr(tp, fp, fn)}")
    print(f"  flufl.bounce bounced_recipient exact {ok}/{n} ({ok / n:.0%}); {rate:.0f} mails/s")


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
        if entry["format"] != "eml" or entry["category"] not in ("html", "charsets", "replies", "plain"):
            continue
        msg = mime.load((corpus / entry["file"]).read_bytes())
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
        for out, (_, plain, hrefs) in zip(outs, samples):
            noise += len(re.findall(r"\*\*|\\[_\-*.#\[\]]|^#+ |\]\(", out, re.M))
            links += sum(1 for h in set(hrefs) if h in out)
            links_n += len(set(hrefs))
            if plain.strip():
                a, b = set(collapse(out).lower().split()), set(collapse(plain).lower().split())
                sim.append(len(a & b) / len(a | b) if a | b else 1.0)
        mean = sum(sim) / len(sim) if sim else 0
        print(f"  {name:<18} word-overlap with text/plain {mean:.3f} (n={len(sim)}), markdown noise {noise}, "
              f"links kept {links}/{links_n}, {rate:.0f} parts/s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                    help="the corpus directory (default: $MAILBOT_TEST_CORPUS)")
    ap.add_argument("--alternatives", action="store_true", help="also measure talon, mail-parser-reply, "
                    "email-reply-parser and flufl.bounce")
    ap.add_argument("--html", action="store_true", help="compare HTML→text converters")
    ap.add_argument("--verbose", "-v", action="store_true", help="list every miss")
    args = ap.parse_args()
    if args.corpus is None or not (args.corpus / "manifest.json").is_file():
        print("no corpus: give --corpus DIR or set MAILBOT_TEST_CORPUS (a directory with manifest.json); skipped")
        return 0
    files = load(args.corpus)
    stats = evaluate_ours(args.corpus, files, args.verbose)
    c = stats["counts"]
    print("== mailbot.parsers ==")
    print(f"  parse rate {stats['rate']:.0f} mails/s, crashes {stats['crashes']}, ParseError {stats['parse_errors']}")
    print(f"  is_auto_reply {pr(c['auto_tp'], c['auto_fp'], c['auto_fn'])}")
    print(f"  is_bounce     {pr(c['bounce_tp'], c['bounce_fp'], c['bounce_fn'])}")
    print(f"  bounced_recipient exact set {c['rcpt_ok']}/{c['rcpt_n']} ({c['rcpt_ok'] / c['rcpt_n']:.0%})")
    print(f"  has_attachments {c['att_ok']}/{c['att_n']} ({c['att_ok'] / c['att_n']:.0%}); "
          f"attachment filenames {c['name_ok']}/{c['name_n']} ({c['name_ok'] / c['name_n']:.0%})")
    print_replies("ours", stats["reply"])
    if args.alternatives:
        alternatives(args.corpus, files, args.verbose)
    if args.html:
        html_comparison(args.corpus, files)
    return 1 if stats["crashes"] else 0


if __name__ == "__main__":
    sys.exit(main())
