"""The controlled vocabularies of the alliance record: codes as they travel, German labels.

Codes are stable and URL-safe (they appear in filters and events); labels are what
people read. Adding a value is compatible; renaming or removing one is not.
"""

from __future__ import annotations

from typing import Literal, get_args

# The 16 Länder: ISO 3166-2 codes without "DE-".
STATES: dict[str, str] = {
    "BW": "Baden-Württemberg",
    "BY": "Bayern",
    "BE": "Berlin",
    "BB": "Brandenburg",
    "HB": "Bremen",
    "HH": "Hamburg",
    "HE": "Hessen",
    "MV": "Mecklenburg-Vorpommern",
    "NI": "Niedersachsen",
    "NW": "Nordrhein-Westfalen",
    "RP": "Rheinland-Pfalz",
    "SL": "Saarland",
    "SN": "Sachsen",
    "ST": "Sachsen-Anhalt",
    "SH": "Schleswig-Holstein",
    "TH": "Thüringen",
}

# Fields of action (Handlungsfelder) and current themes.
TOPICS: dict[str, str] = {
    "vereinbarkeit": "Vereinbarkeit von Beruf und Familie",
    "kinderbetreuung": "Kinderbetreuung",
    "beratungsangebote": "Beratungsangebote",
    "familienzeitpolitik": "Kommunale Familienzeitpolitik",
    "erziehungsverantwortung": "Erziehungsverantwortung",
    "lebensumfeld": "Familienfreundliches Lebensumfeld",
    "generationen": "Freiwilligenarbeit und Generationen",
    "gesundheit-pflege": "Gesundheit und Pflege",
    "kinderarmut": "Kinderarmut",
    "flucht-migration": "Flucht und Migration",
    "vielfalt-familienformen": "Nicht-traditionelle Familien",
    "familienfreundliche-standorte": "Familienfreundliche Standorte",
}

PARTNER_TYPES: dict[str, str] = {
    "unternehmen": "Unternehmen",
    "kommune": "Kommune/Verwaltung",
    "arbeitsagentur-jobcenter": "Arbeitsagentur/Jobcenter",
    "kammer": "IHK/HWK",
    "schule": "Schule",
    "kita": "Kita",
    "verein": "Verein",
    "wohlfahrtsverband": "Wohlfahrtsverband",
    "gewerkschaft": "Gewerkschaft",
    "kirche": "Kirche",
    "hochschule": "Hochschule",
    "stiftung": "Stiftung",
    "sonstige": "Sonstige",
}

STATUSES: dict[str, str] = {"active": "aktiv", "dormant": "ruhend", "dissolved": "aufgelöst"}

STAFFING: dict[str, str] = {
    "paid": "hauptamtlich",
    "volunteer": "ehrenamtlich",
    "mixed": "haupt- und ehrenamtlich",
}

AWARDS: dict[str, str] = {"ausgezeichnet-in-die-zukunft": "Ausgezeichnet in die Zukunft"}

SOCIAL_PLATFORMS: dict[str, str] = {
    "facebook": "Facebook",
    "instagram": "Instagram",
    "x": "X",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "linkedin": "LinkedIn",
    "youtube": "YouTube",
    "tiktok": "TikTok",
    "whatsapp": "WhatsApp-Kanal",
    "other": "Sonstige",
}

StateCode = Literal[
    "BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV",
    "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH",
]  # fmt: skip
TopicCode = Literal[
    "vereinbarkeit", "kinderbetreuung", "beratungsangebote", "familienzeitpolitik",
    "erziehungsverantwortung", "lebensumfeld", "generationen", "gesundheit-pflege",
    "kinderarmut", "flucht-migration", "vielfalt-familienformen",
    "familienfreundliche-standorte",
]  # fmt: skip
PartnerType = Literal[
    "unternehmen", "kommune", "arbeitsagentur-jobcenter", "kammer", "schule", "kita",
    "verein", "wohlfahrtsverband", "gewerkschaft", "kirche", "hochschule", "stiftung",
    "sonstige",
]  # fmt: skip
AllianceStatus = Literal["active", "dormant", "dissolved"]
Staffing = Literal["paid", "volunteer", "mixed"]
AwardCode = Literal["ausgezeichnet-in-die-zukunft"]
SocialPlatform = Literal[
    "facebook", "instagram", "x", "mastodon", "bluesky", "linkedin", "youtube", "tiktok",
    "whatsapp", "other",
]  # fmt: skip

# The Literal types and the label tables must name the same codes.
for _literal, _table in (
    (StateCode, STATES),
    (TopicCode, TOPICS),
    (PartnerType, PARTNER_TYPES),
    (AllianceStatus, STATUSES),
    (Staffing, STAFFING),
    (AwardCode, AWARDS),
    (SocialPlatform, SOCIAL_PLATFORMS),
):
    if set(get_args(_literal)) != set(_table):
        raise RuntimeError(
            f"vocabulary out of step: {sorted(set(get_args(_literal)) ^ set(_table))}"
        )
