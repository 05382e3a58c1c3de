"""Sitrep: a CERT's weekly network-security situation report, from feeds and incidents to publication."""

__version__ = "0.1.0"
