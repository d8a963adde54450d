"""Persistence for the monitor: SQLModel tables and Alembic migrations behind a typed Store.

Only frozen dataclasses (monitor.types and monitor.store.records) leave this package.
"""

from monitor.store.async_store import AsyncStore
from monitor.store.db import StorePathError
from monitor.store.items import InsertedItems, SavedHits, SaveTransaction
from monitor.store.records import (
    DELIVERY_STATUSES,
    HEALTH_STATES,
    POLL_STATUSES,
    DeliveryJob,
    DeliveryView,
    FeedJob,
    FeedView,
    HitView,
    PollOutcome,
    StoredHit,
    StoredItem,
    StoreLockedError,
    StoreUnavailableError,
)
from monitor.store.store import Store

__all__ = [
    "DELIVERY_STATUSES",
    "HEALTH_STATES",
    "POLL_STATUSES",
    "AsyncStore",
    "DeliveryJob",
    "DeliveryView",
    "FeedJob",
    "FeedView",
    "HitView",
    "InsertedItems",
    "PollOutcome",
    "SaveTransaction",
    "SavedHits",
    "Store",
    "StoreLockedError",
    "StorePathError",
    "StoreUnavailableError",
    "StoredHit",
    "StoredItem",
]
