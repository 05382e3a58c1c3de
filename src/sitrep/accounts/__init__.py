"""Accounts of the web desk and the API: users with a role, argon2 password hashes, API tokens and
browser sessions, kept in the workspace database beside the incidents (:mod:`sitrep.accounts.service`).

What each role may do is one table (:mod:`sitrep.accounts.roles`)."""
