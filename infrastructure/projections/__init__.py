"""Running the projections over the event log: runners, tracking, rebuild."""

from infrastructure.projections.group import ProjectionGroup, ProjectionState
from infrastructure.projections.runner import Change, ProjectionRunner

__all__ = ["Change", "ProjectionGroup", "ProjectionRunner", "ProjectionState"]
