"""Coverage-guided fuzzing of the parsers with atheris (libFuzzer), for long runs by hand.

    .venv/bin/pip install atheris                              # not a test dependency: a wheel for CPython 3.11 x86-64
    .venv/bin/python bench/fuzz.py                             # parse_mail, 10 minutes, seeded with the corpus
    .venv/bin/python bench/fuzz.py --target text -max_total_time=3600
    .venv/bin/python bench/fuzz.py --target headers -runs=1000000

Targets: `mail` (parse_mail on raw bytes, then the attachments re-read for forwarding), `text` (the reply parsers:
Aideur's commands, dates, prices, the form, consent, results, withdrawal, split_reply, html_to_text), `headers`
(RFC 2047 words, address lists, Message-IDs, charset decoding). Anything but a ParseError out of parse_mail, any
exception from the others, a parsed mail that cannot be stored (NUL, lone surrogate, Message-ID over 998
characters), or one input running past -timeout (10 s here) is a crash: libFuzzer saves the input as
`crash-<sha1>` / `timeout-<sha1>` in the current directory and stops; replay it with
`.venv/bin/python bench/fuzz.py --target mail crash-<sha1>`. Other arguments go to libFuzzer as they are
(https://llvm.org/docs/LibFuzzer.html#options); libFuzzer prints the executions done ("Done N runs in T s").

The working corpus lives in /tmp/mailbot-fuzz-<target>/ (seeded, for `mail`, with the corpus named by MAILBOT_TEST_CORPUS when set): a second run
goes on from what the first one found. The CI counterpart is tests/fuzz/ (Hypothesis, bounded).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
from datetime import date
from pathlib import Path

try:
    import atheris
except ImportError:  # pragma: no cover - the tool is optional
    sys.exit("atheris is not installed: .venv/bin/pip install atheris (CPython 3.8-3.11 on Linux x86-64)")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Optional seeds for the `mail` target: the outside corpus named by the tests' setting, when set.
CORPUS = Path(os.environ.get("MAILBOT_TEST_CORPUS") or "/nonexistent/mailbot-test-corpus")

with atheris.instrument_imports(include=["mailbot", "email"]):
    from mailbot.parsers import (
        ParseError,
        is_withdrawal,
        iter_attachment_payloads,
        parse_aideur_reply,
        parse_date,
        parse_mail,
        parse_price,
        split_reply,
        strip_subject_prefixes,
    )
    from mailbot.parsers.charsets import decode_bytes
    from mailbot.parsers.consent import read_consent
    from mailbot.parsers.headers import addresses, decode_header, message_ids
    from mailbot.parsers.html import html_to_text
    from mailbot.parsers.registration import confirmation_of, helper_answer, intent_of, parse_form
    from mailbot.parsers.results import parse_result

TODAY = date(2026, 3, 2)
CHARSETS = ("utf-8", "iso-8859-1", "windows-1252", "utf-16", "utf-7", "shift_jis", "iso-2022-jp", "gb2312",
            "koi8-r", "x-unknown", "", "unknown-8bit")


def _storable(value: object, what: str) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise AssertionError(f"{what} holds a NUL")
        value.encode("utf-8")
    elif isinstance(value, tuple):
        for item in value:
            _storable(item, what)


def fuzz_mail(data: bytes) -> None:
    try:
        mail = parse_mail(data)
    except ParseError:
        return
    for item in dataclasses.fields(mail):
        _storable(getattr(mail, item.name), item.name)
    if len(mail.message_id) > 998:
        raise AssertionError("Message-ID longer than its column")
    for attachment in mail.attachments:
        _storable(attachment.filename, "filename")
    forwarded = [att.part_index for att, _ in iter_attachment_payloads(data)]
    if forwarded != [att.part_index for att in mail.attachments]:
        raise AssertionError(f"forwarding finds other attachments: {forwarded}")


def fuzz_text(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    which = provider.ConsumeIntInRange(0, 9)
    text = provider.ConsumeUnicodeNoSurrogates(provider.ConsumeIntInRange(0, 4096))
    other = provider.ConsumeUnicodeNoSurrogates(provider.remaining_bytes())
    if which == 0:
        parse_aideur_reply(text, TODAY)
    elif which == 1:
        parse_date(text, TODAY)
        parse_price(text)
    elif which == 2:
        parse_form(other, text)
    elif which == 3:
        intent_of(other, text)
        confirmation_of(text)
        helper_answer(text)
    elif which == 4:
        read_consent(text)
    elif which == 5:
        parse_result(other, text)
    elif which == 6:
        is_withdrawal(text)
        strip_subject_prefixes(text)
    elif which == 7:
        split_reply(text)
    else:
        html_to_text(text + other)


def fuzz_headers(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    charset = CHARSETS[provider.ConsumeIntInRange(0, len(CHARSETS) - 1)]
    value = provider.ConsumeBytes(provider.ConsumeIntInRange(0, 4096)).decode("utf-8", "surrogateescape")
    decode_header(value)
    decode_header(value, collapse=False)
    addresses([value])
    message_ids(value)
    decode_bytes(provider.ConsumeBytes(provider.remaining_bytes()), charset)


TARGETS = {"mail": fuzz_mail, "text": fuzz_text, "headers": fuzz_headers}


def seed_corpus(target: str) -> Path:
    work = Path(f"/tmp/mailbot-fuzz-{target}")
    if not work.is_dir():
        work.mkdir(parents=True)
        manifest = CORPUS / "manifest.json"
        if target == "mail" and manifest.exists():
            for entry in json.loads(manifest.read_text(encoding="utf-8"))["files"]:
                if entry["format"] == "eml":
                    shutil.copy(CORPUS / entry["file"], work / entry["file"].replace("/", "__"))
    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], add_help=False)
    parser.add_argument("--target", choices=sorted(TARGETS), default="mail")
    known, rest = parser.parse_known_args()
    options = [arg for arg in rest if arg.startswith("-")]
    inputs = [arg for arg in rest if not arg.startswith("-")]
    if not any(arg.startswith("-timeout=") for arg in options):
        options.append("-timeout=10")
    if not any(arg.startswith(("-max_total_time=", "-runs=")) for arg in options) and not inputs:
        options.append("-max_total_time=600")
    if not any(arg.startswith("-rss_limit_mb=") for arg in options):
        options.append("-rss_limit_mb=2048")
    if not inputs:
        inputs = [str(seed_corpus(known.target))]
    atheris.Setup([sys.argv[0], *options, *inputs], TARGETS[known.target])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
