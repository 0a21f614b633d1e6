"""Kafka topic names: `<service>.<entity>`, dead letters in `<topic>.dlq`."""

from __future__ import annotations

# Public facts about alliances: the public snapshot, no personal data.
DIRECTORY_ALLIANCE = "directory.alliance"
# Internal: alliance contacts (personal data). Only platform services may read it;
# in production it is ACL-restricted and log-compacted.
DIRECTORY_ALLIANCE_CONTACTS = "directory.alliance-contacts"
# Internal: messages citizens write to an alliance on its page (name, email, text).
# Only notifications may read it; in production it is ACL-restricted, short retention.
DIRECTORY_CONTACT_MESSAGE = "directory.contact-message"
# Internal: one-time sign-in links (the address and the link, a credential valid 15
# minutes). Only notifications may read it; in production ACL-restricted, short retention.
DIRECTORY_SIGN_IN_LINK = "directory.sign-in-link"

# Public facts about surveys (opened, closed, results published) and their responses
# (which alliance submitted when, never the answers).
SURVEYS_SURVEY = "surveys.survey"
SURVEYS_RESPONSE = "surveys.response"
# Internal: invitations, reminders and receipts with the personal answer link (a
# credential). Only notifications may read it; in production it is ACL-restricted.
SURVEYS_INVITATION = "surveys.invitation"

# Public facts about the Aktionstag's actions (moderation and cancellation, no personal data).
EVENTS_ACTION = "events.action"
# Internal: registrations of participants (name, email, the secret cancel link). Only
# notifications may read it; in production it is ACL-restricted.
EVENTS_REGISTRATION = "events.registration"

# Internal: privacy requests (the address) and every service's answer (what it found about
# it). The directory owns the flow; every service holding personal data reads requests.
PRIVACY_REQUEST = "privacy.request"
PRIVACY_ANSWER = "privacy.answer"

ALL_TOPICS: tuple[str, ...] = (DIRECTORY_ALLIANCE, DIRECTORY_ALLIANCE_CONTACTS)
ALL_TOPICS += (SURVEYS_SURVEY, SURVEYS_RESPONSE, SURVEYS_INVITATION)
ALL_TOPICS += (EVENTS_ACTION, EVENTS_REGISTRATION)
ALL_TOPICS += (DIRECTORY_CONTACT_MESSAGE, DIRECTORY_SIGN_IN_LINK)
ALL_TOPICS += (PRIVACY_REQUEST, PRIVACY_ANSWER)


def dead_letter_topic(topic: str) -> str:
    """The topic that holds messages of `topic` which could not be handled."""
    return f"{topic}.dlq"
