"""Where this machine's own servers listen, for tests of the production settings.

A module of its own, not conftest: ``from conftest import …`` names whichever conftest the
run imported first (tests/search has one), so a full run could not collect the importer.
"""

#: This machine's Redis; each test queues under a name of its own (`redis_queue` fixture).
REDIS_URL = "redis://127.0.0.1:6379/0"
