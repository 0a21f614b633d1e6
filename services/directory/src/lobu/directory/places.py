"""The gazetteer moved to `lobu.shared.places` (the events service needs it too)."""

from lobu.shared.places import DOMINANCE, SAME_TOWN_KM, Gazetteer, Place, PlaceMatch, place_key

__all__ = ["DOMINANCE", "SAME_TOWN_KM", "Gazetteer", "Place", "PlaceMatch", "place_key"]
