"""Collection: feed files that arrive by themselves (``[[sources]]`` in ``sitrep.toml``), fetched when
due, ingested once each, and recorded (source, time, size, SHA-256) in the workspace's store."""
