"""Who is calling, and which domain they may read. No Strawberry, no MongoDB here."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.errors import Forbidden, RequiredParameter


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller. ``domain_id`` is None when authentication is off (development mode)."""

    domain_id: str | None = None
    subject: str | None = None

    def domain_for(self, requested: str | None) -> str:
        """The domain this caller reads, given the ``domainId`` argument they sent (if any)."""
        if self.domain_id is not None:
            if requested and requested != self.domain_id:
                raise Forbidden("domainId differs from the domain of the token")
            return self.domain_id
        if not requested:
            raise RequiredParameter("domainId is required")
        return requested


ANONYMOUS = Principal()
