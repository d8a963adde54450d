"""Small policy values read from the configuration and used by the alert and health layers.

They live apart from monitor.config so those layers need not import the config loader."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float
    batch: int


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    failures: int = 5
    silence_factor: float = 3.0
