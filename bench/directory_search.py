"""How fast does the directory search 10,000 alliances, next to a bare FastAPI endpoint?

The directory runs as `make run` runs it (uvicorn in its own process) on PostgreSQL,
with 10,000 generated alliances (seeded: umlauts, all 16 Länder, coordinates inside
Germany, 2–5 topics, partners of every type), inserted with the service's own record
code after it has migrated its database. Kafka is left out of the measurement: the
service is pointed at 127.0.0.1:1, where nothing listens (it keeps retrying in the
background, as it does whenever Kafka is away; searching does not need it). The
baselines, served by the same uvicorn in the same way, in the same run: bench/bare_app.py,
a bare FastAPI JSON endpoint returning a fixed page of 20 hits, and bench/search_floor_app.py,
the raw floor: the same search as one SQL statement on a plain asyncpg pool, serialised
with orjson (tests/bench/test_search_floor.py checks it answers what the service does).
Scenarios: text, filter (Land and field of action), distance, page2 (the text searches'
second pages, through the cursor), and the embedded default: SQLite with the demo data.
Each prints `FIGURE search.<scenario>.postgres.ratio_to_floor|ratio_to_bare|
floor_ratio_to_bare <v> x`, and `FIGURE search.demo.sqlite.ratio_to_bare <v> x`.

Load comes from `wrk` (C, one thread, a fixed number of connections, query strings
rotated by a Lua script); each scenario is warmed up, then measured for a fixed time,
with the baseline measured right before it. Latencies are per request, as wrk records
them; the CPU time per request of each app process (and of the directory's PostgreSQL
backends) is read from /proc around each run. The ratio service/baseline is the
figure to watch; absolute numbers depend on the machine. Run with `make bench`;
figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bench.search_floor_app import DATABASE_URL as FLOOR_DATABASE_URL
from lobu.directory.models import Alliance, AlliancePartner, AllianceTopic
from lobu.directory.records import new_alliance, replace_children
from lobu.directory.schemas import AllianceCreate
from lobu.directory.slugs import unique_slug
from lobu.shared.contracts.vocabulary import PARTNER_TYPES, STAFFING, STATES, TOPICS
from lobu.shared.database import create_engine, create_session_factory, transaction
from lobu.shared.text_search import normalise
from tests.support.ports import free_port
from tests.support.postgres_server import postgres_server
from tests.support.service_process import ServiceProcess

ROOT = Path(__file__).resolve().parent.parent
# The service refuses to start without a JWT secret; searching needs none, so the
# development one (deploy/local/run.env) is enough here.
DEVELOPMENT_AUTH = {
    "LOBU_DIRECTORY_ENVIRONMENT": "development",
    "LOBU_DIRECTORY_JWT_SECRET": "lobu-development-secret-do-not-use-in-production",
}
PAGE_SIZE = 20


@dataclass(frozen=True)
class Place:
    """A German city the generated alliances gather around."""

    name: str
    state: str
    latitude: float
    longitude: float
    postal_prefix: str  # the first two digits of its postcodes; "" when unknown
    weight: float = 1  # how many shares of the alliances it gets


# Used when services/directory/.../data/places.csv is not there: two cities in every Land.
CITIES = [
    Place(*row)  # type: ignore[arg-type]  # (name, Land, lat, lon, postcode prefix, weight)
    for row in [
        ("Stuttgart", "BW", 48.7758, 9.1829, "70", 2),
        ("Freiburg im Breisgau", "BW", 47.9990, 7.8421, "79"),
        ("München", "BY", 48.1351, 11.5820, "80", 3), ("Würzburg", "BY", 49.7913, 9.9534, "97"),
        ("Berlin", "BE", 52.5200, 13.4050, "10", 5), ("Potsdam", "BB", 52.3906, 13.0645, "14"),
        ("Cottbus", "BB", 51.7563, 14.3329, "03"), ("Bremen", "HB", 53.0793, 8.8017, "28", 2),
        ("Bremerhaven", "HB", 53.5396, 8.5809, "27"), ("Hamburg", "HH", 53.5511, 9.9937, "20", 4),
        ("Wiesbaden", "HE", 50.0782, 8.2398, "65"), ("Gießen", "HE", 50.5841, 8.6784, "35"),
        ("Schwerin", "MV", 53.6355, 11.4012, "19"), ("Greifswald", "MV", 54.0865, 13.3923, "17"),
        ("Hannover", "NI", 52.3759, 9.7320, "30", 2), ("Göttingen", "NI", 51.5413, 9.9158, "37"),
        ("Lüneburg", "NI", 53.2464, 10.4115, "21"), ("Köln", "NW", 50.9375, 6.9603, "50", 3),
        ("Düsseldorf", "NW", 51.2277, 6.7735, "40", 2), ("Münster", "NW", 51.9607, 7.6261, "48"),
        ("Mainz", "RP", 49.9929, 8.2473, "55"), ("Trier", "RP", 49.7490, 6.6371, "54"),
        ("Saarbrücken", "SL", 49.2402, 6.9969, "66"), ("Homburg", "SL", 49.3262, 7.3383, "66"),
        ("Dresden", "SN", 51.0504, 13.7373, "01", 2), ("Görlitz", "SN", 51.1527, 14.9873, "02"),
        ("Magdeburg", "ST", 52.1205, 11.6276, "39"),
        ("Halle (Saale)", "ST", 51.4970, 11.9688, "06"), ("Kiel", "SH", 54.3233, 10.1228, "24"),
        ("Lübeck", "SH", 53.8655, 10.6866, "23"), ("Erfurt", "TH", 50.9848, 11.0299, "99"),
        ("Jena", "TH", 50.9272, 11.5892, "07"),
    ]
]  # fmt: skip

# Parts of village names ("Groß Mühlhausen", "Bad Erlenbrück") and city quarters.
PREFIXES = ["", "", "", "", "Bad ", "Groß ", "Klein ", "Markt ", "Alt ", "Neu"]
STEMS = [
    "Mühl", "Wald", "Birken", "Eichen", "Buchen", "Linden", "Rosen", "Hohen", "Schön",
    "Kirch", "Grün", "Roth", "Stein", "Brunn", "Fisch", "Förs", "Hüt", "Lör", "Bräun",
    "Dörn", "Löwen", "Schwarz", "Weiß", "Hasel", "Erlen", "Fried", "Hein", "Sieg",
    "Wolfs", "Falken", "Marien", "Kreuz", "Ahl", "Esch", "Hamm", "Lau", "Ober", "Nieder",
]  # fmt: skip
SUFFIXES = [
    "dorf", "hausen", "heim", "feld", "bach", "berg", "stedt", "burg", "ingen", "rode",
    "au", "hagen", "brück", "tal", "kirchen", "weiler", "born", "münde", "stätt", "wörth",
    "beuren", "leben", "büttel",
]  # fmt: skip
QUARTERS = {
    "Berlin": ["Mitte", "Pankow", "Neukölln", "Spandau", "Köpenick", "Charlottenburg",
               "Friedrichshain", "Kreuzberg", "Tempelhof", "Schöneberg", "Steglitz",
               "Zehlendorf", "Lichtenberg", "Marzahn", "Hellersdorf", "Reinickendorf",
               "Treptow", "Wedding", "Prenzlauer Berg", "Weißensee"],
    "Hamburg": ["Altona", "Eimsbüttel", "Wandsbek", "Harburg", "Bergedorf", "Barmbek",
                "Billstedt", "Ottensen", "Rahlstedt", "Wilhelmsburg", "Niendorf", "Blankenese"],
    "Bremen": ["Vegesack", "Findorff", "Gröpelingen", "Hemelingen", "Huchting", "Osterholz",
               "Schwachhausen", "Walle", "Obervieland", "Blumenthal"],
}  # fmt: skip
NAMES = [
    ("Lokales Bündnis für Familie {place}", 50),
    ("Bündnis für Familie {place}", 15),
    ("Familienbündnis {place}", 15),
    ("Lokales Bündnis für Familie {place} e. V.", 8),
    ("Netzwerk Familie {place}", 7),
    ("Bündnis für Familien in {place}", 5),
]
STREETS = [
    "Rathausstraße", "Marktplatz", "Bahnhofstraße", "Schulstraße", "Hauptstraße", "Am Brühl",
    "Lindenallee", "Kirchplatz", "Mühlenweg", "Goethestraße", "Schloßstraße", "Gartenstraße",
]  # fmt: skip
COORDINATORS = [
    "Stadt {m}", "Gemeinde {m}", "Familienbüro {m}", "Familienzentrum {m} e. V.",
    "Caritasverband für {d}", "Diakonisches Werk {d}", "Gleichstellungsbüro {m}",
]  # fmt: skip
PARTNERS: dict[str, list[str]] = {
    "unternehmen": [
        "Sparkasse {c}", "Stadtwerke {m}", "Volksbank {c} eG", "Bäckerei Müller GmbH",
        "Möbelhaus Kröger", "Autohaus Schäfer", "Pflegedienst Sonnenschein GmbH",
        "Elektro Schröder KG", "Brauerei Weißenbräu", "Zahnarztpraxis Dr. Köhler",
        "Gärtnerei Grünwald", "Apotheke am Markt", "Steuerkanzlei Jäger", "Druckerei Förster",
        "Schreinerei Wölfle", "Optik Bärmann", "Hotel zur Post", "Buchhandlung Lesezeichen",
        "Metallbau Krüger GmbH", "Reisebüro Fernweh", "Malerbetrieb Schmitz & Söhne",
    ],
    "kommune": ["Stadtverwaltung {m}", "Jugendamt {d}", "Gemeindeverwaltung {m}"],
    "arbeitsagentur-jobcenter": ["Jobcenter {d}", "Agentur für Arbeit {c}"],
    "kammer": ["IHK {c}", "Handwerkskammer {c}", "Kreishandwerkerschaft {d}"],
    "schule": ["Grundschule am Mühlenberg", "Gesamtschule {m}", "Volkshochschule {d}"],
    "kita": [
        "Kita Sonnenblume", "Kita Regenbogen", "Kindergarten St. Marien", "Kita Löwenzahn",
        "Kita Pusteblume", "Kita Sternschnuppe", "Kita Märchenwald", "Kita Wirbelwind",
        "Kita Spatzennest", "Kinderkrippe Zwergenland", "Kita Schatzkiste",
        "Waldkindergarten Füchse",
    ],
    "verein": [
        "Sportverein {m} e. V.", "Mehrgenerationenhaus {m}", "Förderverein Familie {m}",
        "Kinderschutzbund {d}", "Tafel {m} e. V.", "Musikschule {m} e. V.",
        "Turnverein Jahn {m}", "Heimatverein {m}", "Frauennetzwerk {c}",
    ],
    "wohlfahrtsverband": [
        "AWO Ortsverein {m}", "Caritas {d}", "DRK Kreisverband {d}", "Diakonie {d}",
        "Paritätischer {c}", "Lebenshilfe {d}",
    ],
    "gewerkschaft": ["DGB Region {c}", "ver.di Bezirk {c}"],
    "kirche": ["Ev. Kirchengemeinde {m}", "Kath. Pfarrei St. Josef {m}"],
    "hochschule": ["Hochschule {c}", "Universität {c}"],
    "stiftung": ["Bürgerstiftung {m}", "Stiftung Familie in {c}"],
    "sonstige": ["Familienzentrum Kunterbunt", "Elterninitiative Zwergenstübchen"],
}  # fmt: skip
# The share of partners per type (Unternehmen and Kommune are the most common).
PARTNER_WEIGHTS = {"unternehmen": 6, "kommune": 4, "verein": 4, "wohlfahrtsverband": 3, "kita": 3}


def shipped_places() -> list[Place] | None:
    """The places of data/places.csv (real places, weighted by the root of their population)."""
    resource = files("lobu.shared") / "data" / "places.csv"
    if not resource.is_file():
        return None
    reader = csv.DictReader(io.StringIO(resource.read_text(encoding="utf-8-sig")), delimiter=";")
    places = [
        Place(
            row["name"], row["land"], float(row["latitude"]), float(row["longitude"]), "",
            weight=max(1.0, int(row["population"] or 0)) ** 0.5,
        )
        for row in reader
    ]  # fmt: skip
    return places if {place.state for place in places} == set(STATES) else None


@dataclass(frozen=True)
class Generated:
    """An alliance to insert."""

    id: str
    slug: str
    request: AllianceCreate


def _village(rng: random.Random) -> str:
    prefix = rng.choice(PREFIXES)
    stem, suffix = rng.choice(STEMS), rng.choice(SUFFIXES)
    return prefix + (stem.lower() if prefix == "Neu" else stem) + suffix


def _near(rng: random.Random, place: Place, max_km: float) -> tuple[float, float]:
    """A point up to `max_km` from `place`, towards the middle of Germany (stays inland)."""
    centre = (51.16, 10.45)
    bearing = math.atan2(centre[0] - place.latitude, centre[1] - place.longitude)
    bearing += rng.uniform(-1.0, 1.0)  # within about 60° of the way inland
    km = max_km * math.sqrt(rng.random())
    latitude = place.latitude + math.sin(bearing) * km / 111.2
    longitude = place.longitude + math.cos(bearing) * km / (
        111.2 * math.cos(math.radians(place.latitude))
    )
    return round(latitude, 5), round(longitude, 5)


def generate(count: int, places: list[Place], seed: int) -> list[Generated]:
    """`count` alliances with ids and slugs, validated by the service's own model."""
    rng = random.Random(seed)
    weights = [place.weight for place in places]
    partner_types = list(PARTNER_TYPES)
    partner_weights = [PARTNER_WEIGHTS.get(kind, 1) for kind in partner_types]
    taken: set[str] = set()
    alliances = []
    for _ in range(count):
        city = rng.choices(places, weights)[0]
        if city.name in QUARTERS:
            municipality = f"{city.name}-{rng.choice(QUARTERS[city.name])}"
            district = city.name
            latitude, longitude = _near(rng, city, 8)
        elif rng.random() < 0.2:
            municipality, district = city.name, f"Stadt {city.name}"
            latitude, longitude = _near(rng, city, 4)
        else:
            municipality = _village(rng)
            district = f"Landkreis {city.name.split(' ')[0]}"
            latitude, longitude = _near(rng, city, 20)
        template = rng.choices([name for name, _ in NAMES], [weight for _, weight in NAMES])[0]
        name = template.format(place=municipality)
        slug = unique_slug(name, taken)
        taken.add(slug)
        fill = {"m": municipality, "d": district, "c": city.name}
        partners: list[dict[str, str]] = []
        for kind in rng.choices(partner_types, partner_weights, k=rng.randint(2, 8)):
            partner = rng.choice(PARTNERS[kind]).format(**fill)
            if partner not in (known["name"] for known in partners):
                partners.append({"name": partner, "type": kind})
        prefix = city.postal_prefix or f"{rng.randint(1, 99):02d}"
        founded = date(2004, 1, 1) + timedelta(days=rng.randint(0, 21 * 365))
        record = {
            "name": name,
            "state": city.state,
            "district": district,
            "municipality": municipality,
            "postal_code": f"{prefix}{rng.randint(0, 999):03d}",
            "city": city.name if rng.random() < 0.5 else municipality,
            "street": f"{rng.choice(STREETS)} {rng.randint(1, 60)}",
            "latitude": latitude,
            "longitude": longitude,
            "founded_on": founded.isoformat(),
            "status": rng.choices(["active", "dormant", "dissolved"], [85, 10, 5])[0],
            "staffing": rng.choice(list(STAFFING)),
            "website": f"https://www.{slug[:60]}.de" if rng.random() < 0.7 else None,
            "topics": rng.sample(list(TOPICS), rng.randint(2, 5)),
            "partners": partners,
            "awards": (
                [{"award": "ausgezeichnet-in-die-zukunft", "year": rng.randint(2012, 2025)}]
                if rng.random() < 0.1
                else []
            ),
            "coordinating_organisation": rng.choice(COORDINATORS).format(**fill),
        }
        alliance_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        alliances.append(Generated(alliance_id, slug, AllianceCreate.model_validate(record)))
    return alliances


async def load(database_url: str, alliances: list[Generated]) -> float:
    """Insert the alliances with the service's record code, 1,000 per transaction; seconds."""
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    started = time.perf_counter()
    try:
        for first in range(0, len(alliances), 1000):
            async with transaction(sessions) as session:
                part = alliances[first : first + 1000]
                records = [one.request.model_dump(mode="json") | {"slug": one.slug} for one in part]
                pairs = list(zip(part, records, strict=True))
                session.add_all([new_alliance(one.id, record) for one, record in pairs])
                await session.flush()
                for one, record in pairs:
                    replace_children(session, one.id, record)
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            # What autovacuum does soon after a bulk load: statistics for the planner, and
            # the GIN index's pending list merged into the index. FULL: the triggers that
            # keep alliances.topic_codes (migration 0011) rewrite each alliance's row once
            # per topic while it is loaded; compacted, the table is as large as it would be
            # after a load without them, so the floor's sequential scans are not slowed by
            # dead row versions the service's writes left behind.
            await autocommit.execute(text("VACUUM FULL ANALYZE"))
        return time.perf_counter() - started
    finally:
        await engine.dispose()


async def database_facts(database_url: str, words: list[str]) -> dict[str, Any]:
    """PostgreSQL's version, row counts, and the plans of the text searches for `words`."""
    # The match as search.py writes it: a materialised CTE over the GIN index's expression.
    matches = (
        "WITH text_matches AS MATERIALIZED (SELECT id FROM alliances "
        "WHERE to_tsvector('german', search_text) @@ to_tsquery('german', :words)) "
    )
    queries = {
        "page": matches  # noqa: S608  # constant text; the words are a bound parameter
        + "SELECT id FROM alliances WHERE id IN (SELECT id FROM text_matches) "
        "ORDER BY name, id LIMIT 21",
        "facets": matches  # noqa: S608  # constant text; the words are a bound parameter
        + "SELECT state, count(*) FROM alliances "
        "WHERE id IN (SELECT id FROM text_matches) GROUP BY state",
    }
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            facts: dict[str, Any] = {
                "version": await connection.scalar(text("SHOW server_version")),
                "alliances": await connection.scalar(select(func.count()).select_from(Alliance)),
                "topics": await connection.scalar(select(func.count()).select_from(AllianceTopic)),
                "partners": await connection.scalar(
                    select(func.count()).select_from(AlliancePartner)
                ),
            }
            for label, sql in queries.items():
                plans: Counter[str] = Counter()
                for word in words:
                    rows = await connection.execute(
                        text("EXPLAIN (COSTS OFF) " + sql), {"words": f"{normalise(word)}:*"}
                    )
                    plans[" → ".join(row[0].strip(" ->") for row in rows if ":" not in row[0])] += 1
                facts[f"{label} plans"] = plans
            return facts
    finally:
        await engine.dispose()


def candidate_words(alliances: list[Generated]) -> dict[str, str]:
    """Words in 0.5–10 % of the alliances: normalised → as people spell them ("Löwenzahn")."""
    spelling: dict[str, str] = {}
    occurrences: Counter[str] = Counter()
    for alliance in (one.request for one in alliances):
        parts = [
            alliance.name, alliance.city, alliance.municipality, alliance.district,
            alliance.coordinating_organisation, *(partner.name for partner in alliance.partners),
        ]  # fmt: skip
        words = set()
        for word in re.findall(r"[^\W\d_]{4,}", " ".join(part or "" for part in parts)):
            key = normalise(word)
            words.add(key)
            if key not in spelling or not word.isascii():
                spelling[key] = word
        occurrences.update(words)
    return {
        key: spelling[key]
        for key, count in sorted(occurrences.items())
        if 0.005 <= count / len(alliances) <= 0.1
    }


async def text_words(database_url: str, candidates: dict[str, str], seed: int) -> list[str]:
    """16 of the candidates whose text search (prefix, German stemming) finds 1–5 %."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            everything = await connection.scalar(select(func.count()).select_from(Alliance))
            fitting = []
            for key, word in candidates.items():
                found = await connection.scalar(
                    text(
                        "SELECT count(*) FROM alliances WHERE "
                        "to_tsvector('german', search_text) @@ to_tsquery('german', :words)"
                    ),
                    {"words": f"{key}:*"},
                )
                if 0.01 <= found / everything <= 0.05:
                    fitting.append(word)
    finally:
        await engine.dispose()
    return random.Random(seed).sample(fitting, min(16, len(fitting)))


def scenarios(words: list[str], places: list[Place], seed: int) -> dict[str, list[str]]:
    """Request paths per scenario, rotated by wrk: text, filter, distance."""
    rng = random.Random(seed + 1)
    pairs = [(state, topic) for state in STATES for topic in TOPICS]
    return {
        "text": [f"/alliances?{urlencode({'q': word, 'limit': PAGE_SIZE})}" for word in words],
        "filter": [
            f"/alliances?{urlencode({'state': state, 'topic': topic, 'limit': PAGE_SIZE})}"
            for state, topic in rng.sample(pairs, 48)
        ],
        "distance": [
            "/alliances?"
            + urlencode(
                {
                    "near": f"{place.latitude:.4f},{place.longitude:.4f}",
                    "radius_km": 25,
                    "limit": PAGE_SIZE,
                }
            )
            for place in rng.sample(places, 24)
        ],
    }


def demo_scenario(base_url: str) -> list[str]:
    """Paths on the demo data: the first page, each Land, and the towns of the first hits."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        first = client.get("/alliances", params={"limit": 16}).raise_for_status().json()
    towns = sorted({hit["city"] for hit in first["items"]})[:8]
    return [
        f"/alliances?limit={PAGE_SIZE}",
        *(f"/alliances?{urlencode({'state': state, 'limit': PAGE_SIZE})}" for state in STATES),
        *(f"/alliances?{urlencode({'q': town, 'limit': PAGE_SIZE})}" for town in towns),
    ]


def second_pages(base_url: str, paths: list[str]) -> list[str]:
    """The paths of the second pages of `paths` (through each first page's cursor)."""
    found = []
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for path in paths:
            cursor = client.get(path).raise_for_status().json()["next_cursor"]
            if cursor:
                found.append(f"{path}&{urlencode({'cursor': cursor})}")
    if not found:
        raise RuntimeError("no text search has a second page; the page2 scenario needs one")
    return found


def check(base_url: str, paths: list[str]) -> tuple[list[int], int]:
    """Every path answers 200 with a page; the totals and the mean response size."""
    totals, sizes = [], []
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for path in paths:
            response = client.get(path)
            response.raise_for_status()
            totals.append(response.json()["total"])
            sizes.append(len(response.content))
    return totals, sum(sizes) // len(sizes)


LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %%d %%d %%d %%d %%d %%d\\n", summary.requests,
    summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


@dataclass(frozen=True)
class Result:
    """One measured run."""

    per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: tuple[float, ...]  # CPU time per request of each group of processes watched


def cpu_seconds(*needles: bytes) -> float:
    """CPU time (user + system) so far of the processes whose command line has all needles.

    Linux only (0.0 elsewhere). A figure that other work on the machine hardly moves,
    unlike requests per second.
    """
    total = 0.0
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            command = (entry / "cmdline").read_bytes()
            if all(needle in command for needle in needles):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:  # gone meanwhile
            continue
    return total


def wrk(
    url: str,
    paths: list[str],
    *,
    seconds: int,
    connections: int,
    folder: Path,
    watch: Sequence[Sequence[bytes]] = (),
) -> Result:
    """Run wrk (one thread, `connections` connections) for `seconds` over the paths.

    `watch` names processes by what their command lines contain; the CPU time they use
    while wrk runs is read from /proc before it starts and after it ends.
    """
    script = folder / f"paths-{uuid.uuid4().hex[:8]}.lua"
    script.write_text(LUA % ", ".join(json.dumps(path) for path in paths))
    command = [
        str(shutil.which("wrk")), "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(script), url,
    ]  # fmt: skip
    cpu_before = [cpu_seconds(*needles) for needles in watch]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
    cpu = [cpu_seconds(*needles) - cpu_before[n] for n, needles in enumerate(watch)]
    found = re.search(r"^BENCH (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", output, re.MULTILINE)
    if not found:
        raise RuntimeError(f"wrk gave no summary:\n{output}")
    requests, micros, _bytes, p50, p99, errors = (int(group) for group in found.groups())
    per_request = tuple(used * 1000 / max(requests, 1) for used in cpu)
    return Result(requests / (micros / 1e6), p50 / 1000, p99 / 1000, errors, per_request)


def ensure_wrk() -> None:
    """wrk is the load generator; install Debian's package when missing (as root)."""
    if shutil.which("wrk"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("directory_search: installing Debian's wrk package", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=True)  # noqa: S607
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],  # noqa: S607
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            stdout=subprocess.DEVNULL,
        )
        return
    sys.exit("directory_search needs wrk: sudo apt-get install wrk (or brew install wrk)")


@contextmanager
def started(process: ServiceProcess) -> Iterator[ServiceProcess]:
    """The process, running for the block.

    Alive is enough (/healthz): the directory's /readyz waits for Kafka, which the
    benchmark leaves out on purpose.
    """
    process.start(ready_path="/healthz")
    try:
        yield process
    finally:
        process.stop()


def uvicorn_flavour() -> str:
    """What uvicorn's defaults pick here (both apps run with them)."""
    found = []
    for module in ("uvloop", "httptools"):
        try:
            __import__(module)
            found.append(module)
        except ImportError:
            pass
    import uvicorn

    return f"uvicorn {uvicorn.__version__}, 1 worker, {' + '.join(found) or 'asyncio + h11'}"


def run(args: argparse.Namespace) -> None:
    ensure_wrk()
    places = shipped_places()
    place_source = "data/places.csv" if places else "the bench's own list"
    places = places or CITIES
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        postgres = stack.enter_context(postgres_server())
        database_url = stack.enter_context(postgres.database("bench_directory"))
        pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        directory = stack.enter_context(
            started(
                ServiceProcess(
                    app="lobu.directory.main:create_app", port=free_port(),
                    env={
                        "LOBU_DIRECTORY_DATABASE_URL": database_url,
                        "LOBU_DIRECTORY_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
                        "LOBU_DIRECTORY_LOG_JSON": "false",
                        "LOBU_DIRECTORY_LOG_LEVEL": "WARNING",
                        **DEVELOPMENT_AUTH,
                        "PYTHONPATH": pythonpath,
                    },
                    log_file=folder / "directory.log",
                )
            )
        )  # fmt: skip
        bare = stack.enter_context(
            started(
                ServiceProcess(
                    app="bench.bare_app:create_app", port=free_port(),
                    env={"PYTHONPATH": pythonpath}, log_file=folder / "bare.log",
                )
            )
        )  # fmt: skip
        floor = stack.enter_context(
            started(
                ServiceProcess(
                    app="bench.search_floor_app:create_app", port=free_port(),
                    env={"PYTHONPATH": pythonpath, FLOOR_DATABASE_URL: database_url},
                    log_file=folder / "floor.log",
                )
            )
        )  # fmt: skip
        # The embedded default: SQLite with the shipped demo alliances (loaded on start).
        demo = stack.enter_context(
            started(
                ServiceProcess(
                    app="lobu.directory.main:create_app", port=free_port(),
                    env={
                        "LOBU_DIRECTORY_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/demo.db",
                        "LOBU_DIRECTORY_DEMO_DATA": "true",
                        "LOBU_DIRECTORY_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
                        "LOBU_DIRECTORY_LOG_JSON": "false",
                        "LOBU_DIRECTORY_LOG_LEVEL": "WARNING",
                        **DEVELOPMENT_AUTH,
                        "PYTHONPATH": pythonpath,
                    },
                    log_file=folder / "demo.log",
                )
            )
        )  # fmt: skip
        # The service has migrated its database on start-up; now fill it.
        alliances = generate(args.alliances, places, args.seed)
        load_seconds = asyncio.run(load(database_url, alliances))
        words = asyncio.run(text_words(database_url, candidate_words(alliances), args.seed))
        paths = scenarios(words, places, args.seed)
        paths["page2"] = second_pages(directory.url, paths["text"])
        facts = asyncio.run(database_facts(database_url, words))
        _, bare_size = check(bare.url, ["/alliances"])
        print(
            f"cores: {os.cpu_count()} (load average {os.getloadavg()[0]:.1f} before the runs); "
            f"PostgreSQL {facts['version']} ({postgres.how}); {uvicorn_flavour()}; "
            f"Python {sys.version.split()[0]}\n"
            f"rows: {facts['alliances']:,} alliances, {facts['topics']:,} topics, "
            f"{facts['partners']:,} partners (around places from {place_source}; inserted and "
            f"VACUUM ANALYZEd in {load_seconds:.1f} s)\n"
            f"load: wrk, 1 thread, {args.connections} connections, {args.warmup} s warm-up "
            f"and {args.seconds} s per run, {PAGE_SIZE} hits a page; Kafka: none (127.0.0.1:1)\n"
            f"baseline: bench/bare_app.py, a fixed page of {bare_size:,} bytes\n"
            f"text words: {', '.join(words)}"
        )
        for label in ("page", "facets"):
            for plan, count in facts[f"{label} plans"].most_common():
                print(f"plan of the text {label} query ({count} of {len(words)} words): {plan}")
        # Whose CPU time counts: each app's process, and the directory's database backends.
        database = make_url(database_url).database or ""
        directory_processes = [
            (b"uvicorn", b"lobu.directory.main", f"\0{directory.port}\0".encode()),
            (b"postgres: ", f" {database} ".encode()),
        ]
        bare_processes = [(b"uvicorn", b"bench.bare_app", f"\0{bare.port}\0".encode())]
        floor_processes = [
            (b"uvicorn", b"bench.search_floor_app", f"\0{floor.port}\0".encode()),
            (b"postgres: ", f" {database} ".encode()),
        ]
        print(
            f"\n{'':26s} {'directory search':^37s}   {'raw floor':^29s}   {'bare':^14s}\n"
            f"{'scenario':9s} {'matches':>9s} {'bytes':>6s}  {'req/s':>6s} {'p50':>7s} {'p99':>8s}"
            f" {'CPU/req':>13s}   {'req/s':>6s} {'p50':>6s} {'p99':>7s} {'CPU/req':>13s}"
            f"   {'req/s':>6s}  to floor  to bare  floor/bare"
        )
        figures: list[tuple[str, float]] = []
        for name, scenario_paths in paths.items():
            totals, size = check(directory.url, scenario_paths)
            rotations = (
                (bare.url, ["/alliances"]), (floor.url, scenario_paths),
                (directory.url, scenario_paths),
            )  # fmt: skip
            for url, rotate in rotations:
                wrk(url, rotate, seconds=args.warmup, connections=args.connections, folder=folder)
            base = wrk(
                bare.url, ["/alliances"], seconds=args.seconds, connections=args.connections,
                folder=folder, watch=bare_processes,
            )  # fmt: skip
            raw = wrk(
                floor.url, scenario_paths, seconds=args.seconds, connections=args.connections,
                folder=folder, watch=floor_processes,
            )  # fmt: skip
            app = wrk(
                directory.url, scenario_paths, seconds=args.seconds,
                connections=args.connections, folder=folder, watch=directory_processes,
            )  # fmt: skip
            errors = app.errors + base.errors + raw.errors
            to_floor, to_bare = app.per_second / raw.per_second, app.per_second / base.per_second
            floor_to_bare = raw.per_second / base.per_second
            print(
                f"{name:9s} {statistics.median(totals) / len(alliances):9.1%} {size:6,d}  "
                f"{app.per_second:6,.0f} {app.p50_ms:5.1f}ms {app.p99_ms:6.1f}ms "
                f"{app.cpu_ms[0]:.1f}+{app.cpu_ms[1]:.1f} ms".ljust(64)
                + f"   {raw.per_second:6,.0f} {raw.p50_ms:4.1f}ms {raw.p99_ms:5.1f}ms "
                f"{raw.cpu_ms[0]:.1f}+{raw.cpu_ms[1]:.1f} ms   {base.per_second:6,.0f}"
                f"  {to_floor:8.3f} {to_bare:8.3f} {floor_to_bare:10.3f}"
                + (f"  ({errors} failed requests)" if errors else "")
            )  # fmt: skip
            figures += [
                (f"search.{name}.postgres.ratio_to_floor", to_floor),
                (f"search.{name}.postgres.ratio_to_bare", to_bare),
                (f"search.{name}.postgres.floor_ratio_to_bare", floor_to_bare),
            ]
        print(
            f"\nmatches: median share of the {len(alliances):,} alliances per query; bytes: mean "
            "response size; CPU/req: CPU time per request of the app process (+ its PostgreSQL "
            "backends), wrk not counted; ratio: directory req/s / bare req/s, the baseline "
            f"measured right before each scenario. Load average after the runs: "
            f"{os.getloadavg()[0]:.1f}."
        )
        demo_paths = demo_scenario(demo.url)
        demo_processes = [(b"uvicorn", b"lobu.directory.main", f"\0{demo.port}\0".encode())]
        totals, size = check(demo.url, demo_paths)
        for url, rotate in ((bare.url, ["/alliances"]), (demo.url, demo_paths)):
            wrk(url, rotate, seconds=args.warmup, connections=args.connections, folder=folder)
        base = wrk(bare.url, ["/alliances"], seconds=args.seconds,
                   connections=args.connections, folder=folder, watch=bare_processes)  # fmt: skip
        app = wrk(demo.url, demo_paths, seconds=args.seconds, connections=args.connections,
                  folder=folder, watch=demo_processes)  # fmt: skip
        print(
            f"\ndemo on SQLite ({len(demo_paths)} paths: browse, every Land, town names; median "
            f"{statistics.median(totals):.0f} matches, {size:,} bytes): "
            f"{app.per_second:,.0f} req/s, "
            f"p50 {app.p50_ms:.1f} ms, p99 {app.p99_ms:.1f} ms, CPU {app.cpu_ms[0]:.1f} ms/req; "
            f"bare {base.per_second:,.0f} req/s; ratio {app.per_second / base.per_second:.3f}"
        )
        figures.append(("search.demo.sqlite.ratio_to_bare", app.per_second / base.per_second))
        for figure, value in figures:
            print(f"FIGURE {figure} {value:.3f} x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alliances", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=10, help="measured seconds per run")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds per run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seed", type=int, default=20261122)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
