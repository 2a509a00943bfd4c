"""The clientOrderId of a proposal: the same user and proposal always give the same id."""

from __future__ import annotations

import uuid

# Fixed namespace: changing it would change every id and break lookups of orders already placed.
NAMESPACE = uuid.UUID("6f1c2a7e-3b0d-5c4e-9a8f-2d1e0b7c6a59")


def client_order_id(user_id: uuid.UUID, proposal_id: uuid.UUID) -> uuid.UUID:
    """Return UUIDv5(user, proposal)."""
    return uuid.uuid5(NAMESPACE, f"{user_id}:{proposal_id}")
