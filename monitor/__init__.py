"""Sanctions-violation allegation monitor: feeds → watch rules → store → alerts."""

__version__ = "0.1.0"
