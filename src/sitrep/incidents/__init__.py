"""Incident handling: cases, coordination with outside parties, notifications and weekly numbers.

``models`` holds the tables, ``db`` opens and migrates the database, ``workflow`` changes incidents
(status machine, audit trail, cross-border), ``partners`` is the directory and its routing rules,
``importer`` reads CSV/JSON, ``propose`` turns lake events into proposed incidents, ``notify`` mails
partners, and ``stats`` computes the weekly handling numbers (DESIGN.md §5).
"""
