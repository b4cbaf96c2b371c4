"""Running the projections over the event log: runners, tracking, rebuild.

Nothing is imported here, so a command that only replays (time travel) does not
import the live group's threads, change watcher and read-model queries:
`infrastructure.projections.group` and `.runner` are imported by name.
"""
