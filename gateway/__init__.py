"""GraphQL gateway over the Job data of SpaceONE's power-scheduler service."""

__version__ = "0.1.0"
