"""The release this code must upgrade from, recorded in one place.

Migration policy: every release migrates forward from the previous one, and a released migration is
never edited (a fix is a new migration). ``tests/test_upgrade.py`` builds a database at
``PREVIOUS_RELEASE_HEAD``, fills it with rows written in that schema's SQL, upgrades to the code's head
and checks that the data survived and is served. When cutting a release: tag it ``v<version>``, move the
CHANGELOG's "Unreleased" entries under it, and set these two names to the release just made.
"""

PREVIOUS_RELEASE = "0.1.0"
PREVIOUS_RELEASE_HEAD = "0010"  # the last migration of 0.1.0 (commit 3035c53, before server-side sessions)
