"""The events service's use cases: each one transaction, with its events and audit entry."""

from lobu.events.service.actions import Actions
from lobu.events.service.alliances import AllianceReplicas
from lobu.events.service.editions import Editions
from lobu.events.service.registrations import Registrations

__all__ = ["Actions", "AllianceReplicas", "Editions", "Registrations"]
