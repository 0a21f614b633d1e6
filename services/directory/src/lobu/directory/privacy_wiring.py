"""The directory's part in the privacy flow, wired in one call from main.py.

It owns the requests (the API, the answers' join) and, as a holder of personal data
itself, answers them too (alliance contacts).
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlmodel import col

from lobu.directory.privacy_data import DirectoryPersonalData
from lobu.directory.privacy_models import PrivacyAnswer
from lobu.directory.privacy_requests import PrivacyRequests
from lobu.directory.service import AllianceDirectory
from lobu.directory.settings import DirectorySettings
from lobu.shared import RetentionRule, ServiceRuntime
from lobu.shared.contracts.privacy import PRIVACY_ANSWERED, PRIVACY_REQUESTED
from lobu.shared.contracts.registry import definition_for
from lobu.shared.privacy import AddressHasher, subscribe_to_privacy_requests
from lobu.shared.topics import PRIVACY_ANSWER

ANSWERS_GROUP = "directory-privacy-answers"


def set_up_privacy(
    runtime: ServiceRuntime, settings: DirectorySettings, directory: AllianceDirectory
) -> PrivacyRequests:
    """Publish requests, join the answers, answer for the directory's own data."""
    hasher = AddressHasher.from_settings(settings)
    runtime.declare_publications([definition_for(PRIVACY_REQUESTED)])
    requests = PrivacyRequests(
        runtime.sessions,
        source=runtime.source,
        hasher=hasher,
        services=settings.privacy_services,
    )
    runtime.add_consumer(
        name=ANSWERS_GROUP, topics=[PRIVACY_ANSWER], handlers={PRIVACY_ANSWERED: requests.on_answer}
    )
    subscribe_to_privacy_requests(runtime, DirectoryPersonalData(directory, hasher))
    runtime.retention.declare(
        RetentionRule(
            name="privacy_exports",
            table=PrivacyAnswer,
            period=settings.privacy_export_retention,
            column=col(PrivacyAnswer.answered_at),
            condition=lambda _cutoff: col(PrivacyAnswer.export).is_not(None),
            anonymise={"export": None},
        )
    )
    return requests


def attach_privacy(app: FastAPI, requests: PrivacyRequests) -> None:
    """Make the use cases reachable from the routes."""
    app.state.privacy_requests = requests
