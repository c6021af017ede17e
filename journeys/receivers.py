"""What journeys does when cases says something happened (cases knows nothing of journeys)."""

from __future__ import annotations


def stop_clock_on_arrival(sender, *, case, actor, **kwargs) -> None:
    """The stage "arrived at a safe location" is the journey's arrival too."""
    from journeys.services import journey_arrive_with_case

    journey_arrive_with_case(case=case, actor=actor)


def restart_clock_on_arrival_undone(sender, *, case, actor, arrived_at, **kwargs) -> None:
    """The arrival a bed recorded was taken back: the journey it ended goes on."""
    from journeys.services import journey_resume_with_case

    journey_resume_with_case(case=case, actor=actor, arrived_at=arrived_at)


def destroy_with_the_case(sender, *, case, actor, **kwargs) -> None:
    """A case's erasure erases its journeys too, in the same transaction (see the service)."""
    from journeys.services import journeys_erase_with_case

    journeys_erase_with_case(case=case)


def handler_off_the_team(sender, *, case, actor, user, **kwargs) -> None:
    """Someone left the case's team: a journey they handle needs another handler."""
    from journeys.services import journey_handler_left_team

    journey_handler_left_team(case=case, user=user)
