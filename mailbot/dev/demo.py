"""`make run` without a mailbox: a loopback Dovecot + Postfix with demo accounts, and the daemon on it.

Accounts (password `demo` for all): the club aide@club.test, Aideur aideur@club.test, and three members at
membres.test. Everything lives under var/demo/ (mailboxes, database, secret), so a second `make run` goes on
where the first stopped.
"""
from __future__ import annotations

import argparse
import secrets
import smtplib
import sys
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from imap_tools import MailBoxUnencrypted

from mailbot.config import load_settings
from mailbot.db import make_engine, make_session_factory, upgrade
from mailbot.dev.devserver import MailServer
from mailbot.members import upsert_member

PASSWORD = "demo"
CLUB = "aide@club.test"
AIDEUR = "aideur@club.test"
MEMBERS = (
    ("alice@membres.test", "Alice", "Martin", "Martin Conseil", "06 12 34 56 78", "comptabilité, fiscalité, paie"),
    ("bruno@membres.test", "Bruno", "Petit", "Petit Bâtiment", "06 23 45 67 89", "maçonnerie, rénovation, devis"),
    ("chloe@membres.test", "Chloé", "Durand", "Durand Avocats", "06 34 56 78 90", "droit du travail, contrats"),
)
OUTSIDER = "inconnu@ailleurs.test"


def demo_env(root: Path, server: MailServer) -> dict[str, str]:
    secret_file = root / "secret"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_hex(32))
        secret_file.chmod(0o600)
    common = {"HOST": server.imap_host, "USER": CLUB, "PASSWORD": PASSWORD, "SECURITY": "none"}
    env = {f"MAILBOT_IMAP_{k}": v for k, v in common.items()} | {"MAILBOT_IMAP_PORT": str(server.imap_port)}
    env |= {"MAILBOT_SMTP_HOST": server.smtp_host, "MAILBOT_SMTP_PORT": str(server.smtp_port),
            "MAILBOT_SMTP_SECURITY": "none"}
    env |= {"MAILBOT_CLUB_ADDRESS": CLUB, "MAILBOT_AIDEUR_ADDRESSES": AIDEUR,
            "MAILBOT_SECRET_KEY": secret_file.read_text().strip(),
            "MAILBOT_DATABASE_URL": f"sqlite:///{(root / 'mailbot.db').resolve()}",
            "MAILBOT_POLL_SECONDS": "30"}
    return env


def _server(root: Path) -> MailServer:
    root.mkdir(parents=True, exist_ok=True)
    ports = root / "ports"
    imap_port = smtp_port = None
    if ports.exists():  # keep the same ports between runs, so a mail client set up once keeps working
        imap_port, smtp_port = (int(p) for p in ports.read_text().split())
    server = MailServer(root.resolve() / "mail", domain="club.test", imap_port=imap_port, smtp_port=smtp_port)
    ports.write_text(f"{server.imap_port} {server.smtp_port}")
    for address in (CLUB, AIDEUR, *(m[0] for m in MEMBERS), OUTSIDER):
        server.add_user(address, PASSWORD)
    return server


def cmd_demo_run(args: argparse.Namespace) -> int:
    import os

    from mailbot.daemon import Daemon

    root: Path = args.root
    server = _server(root)
    server.start()
    try:
        env = demo_env(root, server)
        os.environ.update(env)
        # The same settings for the operator's commands in another terminal (`--env-file var/demo/.env`).
        (root / ".env").write_text("".join(f"{key}={value}\n" for key, value in env.items()))
        settings = load_settings(env_file=None)
        upgrade(settings.database_url)
        sessions = make_session_factory(make_engine(settings.database_url))
        with sessions.begin() as session:
            for email, first, last, company, phone, skills in MEMBERS:
                upsert_member(session, email, first_name=first, last_name=last, company=company, phone=phone,
                              skills=skills)
        print(_welcome(server), flush=True)
        Daemon(settings, sessions).run_forever()
    finally:
        server.stop()
    return 0


def _welcome(server: MailServer) -> str:
    members = "\n".join(f"    {m[0]:<24} {m[1]} {m[2]}" for m in MEMBERS)
    commands = "\n".join(f"  {command:<58} # {what}" for command, what in (
        (".venv/bin/mailbot demo send", "Alice écrit au Club"),
        (f".venv/bin/mailbot demo send --from {OUTSIDER}", "un inconnu écrit"),
        (".venv/bin/mailbot demo read alice@membres.test", "ce qu'Alice a reçu"),
        (f".venv/bin/mailbot demo read {AIDEUR}", "ce qu'Aideur a reçu"),
        (".venv/bin/mailbot --env-file var/demo/.env tickets list", "les tickets"),
    ))
    return f"""
mailbot tourne en mode démo (serveur mail local sur 127.0.0.1).

  Club : {CLUB}   Aideur : {AIDEUR}   mot de passe de tous les comptes : {PASSWORD}
  Membres :
{members}
  Non-membre : {OUTSIDER}

  IMAP 127.0.0.1:{server.imap_port}, SMTP 127.0.0.1:{server.smtp_port}, sans chiffrement
  (un client mail comme Thunderbird peut s'y connecter avec ces comptes).

Dans un autre terminal :
{commands}

Ctrl-C arrête le daemon et le serveur mail.
"""


def _ports(root: Path) -> tuple[int, int]:
    ports = root / "ports"
    if not ports.exists():
        sys.exit("mailbot: the demo is not running: start it with `make run`")
    imap_port, smtp_port = (int(p) for p in ports.read_text().split())
    return imap_port, smtp_port


def cmd_demo_send(args: argparse.Namespace) -> int:
    _, smtp_port = _ports(args.root)
    message = EmailMessage()
    message["From"] = args.sender
    message["To"] = args.to or CLUB
    message["Subject"] = args.subject
    message["Message-ID"] = make_msgid(domain=args.sender.rsplit("@", 1)[-1])
    message.set_content(args.text)
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
        smtp.send_message(message)
    print(f"sent from {args.sender} to {message['To']}: {args.subject}")
    return 0


def cmd_demo_read(args: argparse.Namespace) -> int:
    imap_port, _ = _ports(args.root)
    with MailBoxUnencrypted("127.0.0.1", imap_port).login(args.address, PASSWORD) as box:
        for message in box.fetch(mark_seen=False):
            print("=" * 72)
            print(f"De : {message.from_}\nÀ : {', '.join(message.to)}\nObjet : {message.subject}\n"
                  f"Date : {message.date_str}\n")
            print(message.text)
    return 0
