"""What the events service keeps only for a while: the participants' data.

A registration (name, email, seats) is deleted `participant_retention` (30 days by
default, `LOBU_EVENTS_PARTICIPANT_RETENTION`, e.g. `P14D`) after its action ended,
by the shared retention job (`lobu.shared.retention`), in short batches. The seats
an action had confirmed stay in its `seats_taken`, so the statistics' seats and fill
rate survive; the counts of registrations and waiting seats go with the rows. The
rows saying which reminders were sent go with them.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlmodel import col

from lobu.events.models import Action, Registration, ReminderSent
from lobu.shared.retention import RetentionJob, RetentionRule


def declare_participant_retention(job: RetentionJob, *, period: timedelta) -> None:
    """Declare the registrations (and the reminders sent) on the service's retention job."""
    job.declare(
        RetentionRule(
            name="registrations",
            table=Registration,
            period=period,
            condition=lambda cutoff: col(Registration.action_id).in_(
                select(col(Action.id)).where(col(Action.ends_at) < cutoff)
            ),
        )
    )
    job.declare(
        RetentionRule(
            name="action_reminders_sent",
            table=ReminderSent,
            period=period,
            condition=lambda cutoff: col(ReminderSent.action_id).in_(
                select(col(Action.id)).where(col(Action.ends_at) < cutoff)
            ),
        )
    )
