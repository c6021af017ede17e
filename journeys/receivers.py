"""What journeys does when cases says something happened (cases knows nothing of journeys)."""

from __future__ import annotations


def stop_clock_on_arrival(sender, *, case, actor, **kwargs) -> None:
    """The stage "arrived at a safe location" is the journey's arrival too."""
    from journeys.services import journey_arrive_with_case

    journey_arrive_with_case(case=case, actor=actor)


def destroy_with_the_case(sender, *, case, actor, **kwargs) -> None:
    """A case's erasure erases its journeys too: an active one is cancelled and its clock stopped,
    and their keys are destroyed in the same transaction (their coarse places and the clock's
    times stay, as the case's region does)."""
    from django.utils import timezone

    from journeys.models import ClosedReason, Journey, JourneyStatus
    from journeys.services.plans import _stop_clock
    from protection.erasure import destroy_data_key

    now = timezone.now()
    for journey in Journey.objects.filter(case=case).select_related("data_key"):
        if journey.status == JourneyStatus.ACTIVE:
            # Nobody is watched through an erased case: its clock stops, as when cancelled.
            Journey.objects.filter(pk=journey.pk).update(
                status=JourneyStatus.CANCELLED, ended_at=now
            )
            _stop_clock(journey, reason=ClosedReason.CANCELLED, now=now)
        if journey.data_key.destroyed_at is None:
            destroy_data_key(journey.data_key)
