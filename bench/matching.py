"""Matching benchmark: how fast `mailbot.matching.rank` finds the members for a ticket among 10,000, against
the naive approach (read every member's profile and score it in Python).

    .venv/bin/python bench/matching.py                      # SQLite file, 10,000 members
    .venv/bin/python bench/matching.py --postgres           # and PostgreSQL (127.0.0.1:5432, user postgres)
    .venv/bin/python bench/matching.py --members 2000 --quick

For each database: a fresh schema (`mailbot db upgrade`), N generated members inserted (not timed; the generator
of the 300-member test set, tests/data/make_members_300.py, another seed; 15 % of them not reachable: ended,
refusing appeals or bounced), then
  (a) indexing: `index_member` for every member, committed every 1,000 — members per second;
  (b) ours: `rank()` for 50 varied requests (the 20 of the quality test and 30 more, short and long), a fresh
      session each, 3 rounds after a warm-up — median, p95, max in ms;
  (c) baseline, same run: each request scored by reading every member's skills/hobbies/particulars
      (SELECT of all members), tokenising and stemming them (same `terms_of`, its word cache warm) and the same
      scoring function — median ms and ratio baseline / ours. Its rankings must equal rank()'s: a check that the
      SQL candidate selection loses nothing.
Results go to bench/results/matching-<timestamp>.json and a summary is printed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import sqlalchemy
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))  # `python bench/matching.py` from the repo root

from bench import common
from bench.common import log
from mailbot import matching
from mailbot.db import make_engine, make_session_factory, upgrade
from mailbot.models import Member, utcnow
from tests.data.make_members_300 import generate_members

POSTGRES_ADMIN_URL = os.environ.get("MAILBOT_BENCH_POSTGRES_URL",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
POSTGRES_DATABASE = "mailbot_bench_matching"
TARGET_MS = 50.0
ROUNDS = 3

# 30 more requests as members write them, beside the 20 of tests/data/matching_requests.json: short, long,
# without accents, vague, several needs at once, and one that matches nothing.
MORE_REQUESTS = [
    "Besoin d'un électricien pour mettre aux normes le tableau électrique de l'atelier.",
    "Qui connaît bien la TVA intracommunautaire ? Je commence à vendre en Belgique et en Allemagne.",
    "Notre serveur Windows ne démarre plus depuis ce matin, plus personne n'accède aux fichiers partagés.",
    "bonjour je cherche un avocat pour une rupture conventionnelle avec mon assistante",
    "Je cherche une personne qui maîtrise InDesign pour la mise en page de notre plaquette.",
    "Le référencement de notre site est catastrophique, qui s'y connaît en SEO ?",
    "Je reprends une entreprise de menuiserie : business plan, financement, reprise du bail… par où commencer ?",
    "Un membre pratique-t-il l'apiculture ? Nous voudrions installer deux ruches sur le toit.",
    "Nous exportons vers le Brésil, quelqu'un parle portugais ?",
    "Qui pourrait animer un atelier de prise de parole en public pour mes commerciaux ?",
    "Je dois recruter deux commerciaux terrain, des conseils pour les entretiens d'embauche ?",
    "Mon assureur refuse de prendre en charge un sinistre (dégât des eaux dans l'entrepôt), que faire ?",
    "plombier urgent fuite chauffe eau",
    "Quelqu'un sait-il monter un dossier de subvention auprès de la région ?",
    "On voudrait organiser un séminaire d'équipe avec une activité team building en Bretagne.",
    "Nous cherchons un architecte pour aménager nos nouveaux bureaux, avec accessibilité PMR.",
    "Je voudrais faire une formation HACCP pour mon personnel de cuisine.",
    "Mes salariés se plaignent de douleurs au dos : un ergonome ou un kiné pour regarder les postes ?",
    "Comment mettre en place le document unique d'évaluation des risques ?",
    "Un de mes clients ne paie pas ses factures depuis six mois, comment récupérer ma créance ?",
    "Je cherche quelqu'un qui parle arabe pour accompagner un client marocain lors de sa visite.",
    "Notre logo date de 1998, un graphiste pourrait-il nous proposer une nouvelle identité visuelle ?",
    "Est-ce que quelqu'un s'y connaît en machine learning pour prévoir nos ventes ?",
    "merci de votre aide",
    "Qui fait de la voile ? Nous aimerions inviter des clients à une régate en septembre.",
    "Je cherche un notaire pour une donation à mes enfants et la transmission de mon entreprise.",
    ("Le chauffage de notre local ne marche plus, il faudrait un chauffagiste ou quelqu'un qui connaît les "
    "pompes à chaleur."),
    "Pour notre démarche qualité, quelqu'un a-t-il déjà préparé une certification ISO 9001 ?",
    "Nos stocks sont mal gérés, je cherche quelqu'un en logistique ou supply chain pour un diagnostic.",
    ("Bonjour à tous,\n\nJe me permets de vous écrire car nous traversons une période compliquée. Notre "
     "entreprise de transport emploie 23 salariés et nous avons perdu notre plus gros client en mars. La banque "
     "nous demande un prévisionnel de trésorerie et un plan de redressement, et l'expert-comptable parle d'une "
     "procédure de sauvegarde au tribunal de commerce. Je ne sais pas par où commencer : faut-il d'abord "
     "négocier un étalement des charges sociales avec l'URSSAF, demander un prêt garanti, ou voir un avocat "
     "spécialisé en procédures collectives ? Un membre a-t-il déjà traversé un redressement judiciaire et "
     "accepterait-il de partager son expérience ? Nous avons aussi des questions sur le licenciement "
     "économique de deux chauffeurs et sur la renégociation de notre crédit-bail pour les camions. "
     "Toute aide serait précieuse.\n\nMerci d'avance,\nPatrick"),
]


@dataclass
class DatabaseResult:
    database: str
    members: int
    eligible: int
    index_rows: int
    index_seconds: float
    index_rate: float  # members per second
    rank_ms: list[float]
    median_ms: float
    p95_ms: float
    max_ms: float
    baseline_ms: list[float]
    baseline_median_ms: float
    ratio: float  # baseline median / ours median
    same_rankings: bool
    mismatches: list[str] = field(default_factory=list)


def requests() -> list[str]:
    tested = json.loads((BENCH_DIR.parent / "tests" / "data" / "matching_requests.json").read_text("utf-8"))
    return [r["text"] for r in tested] + MORE_REQUESTS


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def insert_members(sessions: sessionmaker[Session], count: int, seed: int) -> int:
    """N generated members, 15 % not reachable. Returns the eligible count."""
    rows = generate_members(count, seed)
    eligible = 0
    for i, row in enumerate(rows):
        row.update(status="active", accepts_appeals=True, bounced_at=None)
        kind = i % 20
        if kind == 7:
            row["status"] = "ended"
        elif kind == 13:
            row["accepts_appeals"] = False
        elif kind == 17:
            row["bounced_at"] = utcnow()
        else:
            eligible += 1
    with sessions.begin() as session:
        for start in range(0, len(rows), 2000):
            session.execute(insert(Member), rows[start:start + 2000])
    return eligible


def index_all(sessions: sessionmaker[Session], batch: int = 1000) -> tuple[float, int]:
    """index_member for every member, committed every `batch`: (seconds, rows written)."""
    with sessions() as session:
        ids = session.scalars(select(Member.id).order_by(Member.id)).all()
    start = time.perf_counter()
    for offset in range(0, len(ids), batch):
        with sessions.begin() as session:
            for member in session.scalars(select(Member).where(Member.id.in_(ids[offset:offset + batch]))):
                matching.index_member(session, member)
    seconds = time.perf_counter() - start
    with sessions() as session:
        rows = session.scalar(select(sqlalchemy.func.count()).select_from(matching.MemberTerm)) or 0
    return seconds, rows


def naive_rank(session: Session, text: str, synonyms: matching.Synonyms, limit: int = 5) -> list[matching.Match]:
    """The baseline: every member's profile read and scored in Python (same tokeniser, same scoring)."""
    eligible_ids = set(session.scalars(select(Member.id).where(*matching.eligible_conditions())))
    concepts = matching.concepts_of(text, synonyms)
    wanted = {term for c in concepts for e in c.alternatives for slot in e for term in slot}
    postings = []
    dfs: dict[str, int] = {}
    total = 0
    for member_id, skills, hobbies, particulars in session.execute(
            select(Member.id, Member.skills, Member.hobbies, Member.particulars)):
        total += 1
        for row in matching.member_rows(member_id, skills, hobbies, particulars):
            term = row["term"]
            if term in wanted:
                dfs[term] = dfs.get(term, 0) + 1
                if member_id in eligible_ids:
                    postings.append((member_id, term, row["field"], row["word"]))
    return matching.score(postings, concepts, dfs, total, limit=limit)


def timed(function: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    return (time.perf_counter() - start) * 1000, result


def bench_database(label: str, url: str, members: int, seed: int, rounds: int) -> DatabaseResult:
    log(f"{label}: schema, {members:,} members")
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        eligible = insert_members(sessions, members, seed)
        log(f"  indexing {members:,} members...")
        index_seconds, index_rows = index_all(sessions)
        log(f"  {index_seconds:.1f} s = {members / index_seconds:,.0f} members/s, {index_rows:,} rows")
        if url.startswith("postgresql"):
            with engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
        synonyms = matching.load_synonyms()
        texts = requests()

        def ours(text: str) -> list[matching.Match]:
            with sessions() as session:
                return matching.rank(session, text, synonyms=synonyms)

        for text in texts:  # warm-up: connection pool, page cache, the stemmer's word cache
            ours(text)
        rank_ms: list[float] = []
        results: dict[str, list[matching.Match]] = {}
        for _ in range(rounds):
            for text in texts:
                ms, results[text] = timed(lambda text=text: ours(text))
                rank_ms.append(ms)
        log(f"  rank: median {statistics.median(rank_ms):.1f} ms, max {max(rank_ms):.1f} ms; baseline...")

        baseline_ms: list[float] = []
        mismatches = []
        for text in texts:
            with sessions() as session:
                ms, naive = timed(lambda session=session, text=text: naive_rank(session, text, synonyms))
            baseline_ms.append(ms)
            if naive != results[text]:
                mismatches.append(text[:60])
        median = statistics.median(rank_ms)
        baseline_median = statistics.median(baseline_ms)
        log(f"  baseline: median {baseline_median:.0f} ms; rankings equal: {not mismatches}")
        return DatabaseResult(
            database=label, members=members, eligible=eligible, index_rows=index_rows,
            index_seconds=round(index_seconds, 2), index_rate=round(members / index_seconds, 1),
            rank_ms=[round(x, 2) for x in rank_ms], median_ms=round(median, 2),
            p95_ms=round(percentile(rank_ms, 0.95), 2), max_ms=round(max(rank_ms), 2),
            baseline_ms=[round(x, 1) for x in baseline_ms], baseline_median_ms=round(baseline_median, 1),
            ratio=round(baseline_median / median, 1), same_rankings=not mismatches, mismatches=mismatches)
    finally:
        engine.dispose()


def postgres_url() -> str | None:
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{POSTGRES_DATABASE}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{POSTGRES_DATABASE}"')
    except sqlalchemy.exc.OperationalError as error:
        log(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {error}")
        return None
    finally:
        admin.dispose()
    return make_url(POSTGRES_ADMIN_URL).set(database=POSTGRES_DATABASE).render_as_string(hide_password=False)


def summary(results: list[DatabaseResult]) -> str:
    lines = ["", (f"| database | members | indexing members/s | rank median ms | p95 ms | max ms "
                 f"(target < {TARGET_MS:.0f}) | baseline median ms | baseline / ours | same rankings |"),
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r.database} | {r.members:,} | {r.index_rate:,.0f} | {r.median_ms:.1f} | {r.p95_ms:.1f} | "
                     f"{r.max_ms:.1f} | {r.baseline_median_ms:.0f} | {r.ratio:.0f} | "
                     f"{'yes' if r.same_rankings else 'NO: ' + '; '.join(r.mismatches)} |")
    return "\n".join(lines)


def write_results(results: list[DatabaseResult], args: argparse.Namespace) -> Path:
    headline = [common.figure(f"matching {r.database} {r.members:,} members: rank() p95 ms", r.p95_ms,
                              f"< {TARGET_MS:.0f}", r.p95_ms < TARGET_MS and r.same_rankings) for r in results]
    return common.write_results("matching", args, {
        "requests": len(requests()),
        "databases": [asdict(r) for r in results],
        "valid": all(r.same_rankings and r.p95_ms < TARGET_MS for r in results),
    }, headline=headline)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = common.make_parser(__doc__, keep="keep the SQLite file")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=10_000)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL (database "
                        f"{POSTGRES_DATABASE}, dropped and created; admin URL from MAILBOT_BENCH_POSTGRES_URL)")
    parser.add_argument("--quick", action="store_true", help="one round instead of 3")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rounds = 1 if args.quick else ROUNDS
    work = Path(tempfile.mkdtemp(prefix="bench-matching-", dir="/tmp"))
    results = []
    try:
        results.append(bench_database("SQLite", f"sqlite:///{work / 'mailbot.db'}", args.members, args.seed, rounds))
        if args.postgres:
            url = postgres_url()
            if url is not None:
                results.append(bench_database("PostgreSQL", url, args.members, args.seed, rounds))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    path = write_results(results, args)
    print(summary(results))
    print(f"\nresults: {path}" + (f" (SQLite file {work / 'mailbot.db'})" if args.keep else ""))
    return 0 if all(r.same_rankings for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
