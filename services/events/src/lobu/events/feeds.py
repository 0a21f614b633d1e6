"""The programme as GeoJSON (RFC 7946) for maps and as iCalendar (RFC 5545) for calendars."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from icalendar import Calendar, Event, vGeo

from lobu.events.domain import BERLIN
from lobu.events.models import ActionState
from lobu.events.programme import Found
from lobu.events.service.views import place_of
from lobu.shared import as_utc, utc_now

UID_DOMAIN = "lobu.lokale-buendnisse-fuer-familie.de"
PRODID = "-//Lokale Bündnisse für Familie//lobu events//DE"


def geojson(found: Sequence[Found], *, base_url: str) -> dict[str, Any]:
    """A FeatureCollection of the actions that have coordinates (online ones have none)."""
    features = [
        {
            "type": "Feature",
            "id": f.action.id,
            # RFC 7946: longitude first.
            "geometry": {"type": "Point", "coordinates": [f.action.longitude, f.action.latitude]},
            "properties": {
                "title": f.action.title,
                "starts_at": as_utc(f.action.starts_at).isoformat(),
                "ends_at": as_utc(f.action.ends_at).isoformat(),
                "alliance_id": f.action.alliance_id,
                "alliance_name": f.alliance.name if f.alliance else "",
                "land": f.alliance.state if f.alliance and f.alliance.state else None,
                "place": place_of(f.action),
                "target_groups": f.action.target_groups,
                "registration_required": f.action.registration_required,
                "state": f.action.state,
                "url": f"{base_url}/actions/{f.action.id}",
            },
        }
        for f in found
        if f.action.latitude is not None and f.action.longitude is not None
    ]
    return {"type": "FeatureCollection", "features": features}


def icalendar_feed(found: Sequence[Found], *, name: str, base_url: str) -> bytes:
    """A VCALENDAR with one VEVENT per action, in Berlin time with its VTIMEZONE.

    Cancelled actions stay in the feed with STATUS:CANCELLED and a higher SEQUENCE, so
    that subscribed calendars strike them instead of keeping a stale entry.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Europe/Berlin")
    stamp = utc_now().replace(microsecond=0)
    for f in found:
        calendar.add_component(_event(f, stamp=stamp, base_url=base_url))
    calendar.add_missing_timezones()
    body: bytes = calendar.to_ical()
    return body


def _event(found: Found, *, stamp: dt.datetime, base_url: str) -> Event:
    action = found.action
    event = Event()
    event.add("uid", f"{action.id}@{UID_DOMAIN}")
    event.add("dtstamp", stamp)
    event.add("last-modified", as_utc(action.updated_at).replace(microsecond=0))
    event.add("sequence", action.version)
    event.add("dtstart", as_utc(action.starts_at).astimezone(BERLIN).replace(microsecond=0))
    event.add("dtend", as_utc(action.ends_at).astimezone(BERLIN).replace(microsecond=0))
    event.add("summary", action.title)
    organiser = found.alliance.name if found.alliance and found.alliance.name else ""
    description = "\n\n".join(part for part in (action.description, organiser) if part)
    if description:
        event.add("description", description)
    location = action.online_url if action.online else place_of(action)
    if location:
        event.add("location", location)
    if action.latitude is not None and action.longitude is not None:
        event.add("geo", vGeo((action.latitude, action.longitude)))
    event.add("url", f"{base_url}/actions/{action.id}")
    cancelled = action.state == ActionState.CANCELLED.value
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event
