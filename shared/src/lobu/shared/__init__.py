"""lobu.shared: the event contracts and the plumbing every lobu service stands on.

What services may use is exported here; everything else is private to the package.
"""

from lobu.shared.app import create_service_app
from lobu.shared.auth import AdminCaller, Caller, CurrentCaller, OptionalCaller, Role
from lobu.shared.clock import as_utc, utc_now
from lobu.shared.consumer import EventHandler, PoisonMessageError
from lobu.shared.contracts import read_event_data
from lobu.shared.database import transaction
from lobu.shared.envelope import Envelope
from lobu.shared.errors import LobuError
from lobu.shared.outbox import add_event
from lobu.shared.retention import RetentionRule
from lobu.shared.routing import MIB, ServiceRouter
from lobu.shared.runtime import ServiceRuntime
from lobu.shared.settings import ServiceSettings

__all__ = [
    "MIB",
    "AdminCaller",
    "Caller",
    "CurrentCaller",
    "Envelope",
    "EventHandler",
    "LobuError",
    "OptionalCaller",
    "PoisonMessageError",
    "RetentionRule",
    "Role",
    "ServiceRouter",
    "ServiceRuntime",
    "ServiceSettings",
    "add_event",
    "as_utc",
    "create_service_app",
    "read_event_data",
    "transaction",
    "utc_now",
]
