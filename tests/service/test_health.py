"""`dangan health`: the probes a container's health check runs, on a working archive and
on one whose object store and queue do not answer."""

from __future__ import annotations

import json
from dataclasses import replace

from clihelp import dangan, dangan_json

from service.archive import Archive
from service.health import probe

CLOSED = "127.0.0.1:1"  # nothing listens on port 1: connections are refused at once


def test_an_embedded_archive_is_healthy(archive: Archive, archive_env: dict[str, str]) -> None:
    res = dangan_json(archive_env, "health")
    assert res["healthy"] is True
    assert [p["part"] for p in res["parts"]] == ["catalogue", "objects", "queue", "search"]
    assert all(p["ok"] for p in res["parts"])


def test_parts_that_do_not_answer_are_named_and_the_others_still_probed(archive: Archive) -> None:
    broken = Archive(replace(archive.settings, storage_url=f"s3://key:secret@{CLOSED}/b?secure=false",
                             queue_url=f"redis://:queue-password@{CLOSED}/0"))
    parts = {p.part: p for p in probe(broken)}
    assert parts["catalogue"].ok and parts["search"].ok
    assert not parts["objects"].ok and not parts["queue"].ok
    assert "refused" in parts["queue"].detail.lower()
    assert "secret" not in parts["objects"].detail and "queue-password" not in parts["queue"].detail


def test_the_command_exits_1_when_a_part_fails(archive: Archive, archive_env: dict[str, str]) -> None:
    proc = dangan({**archive_env, "DANGAN_QUEUE_URL": f"redis://{CLOSED}/0"}, "health", "--json",
                  check=False)
    assert proc.returncode == 1
    parts = {p["part"]: p["ok"] for p in json.loads(proc.stdout)["parts"]}
    assert parts == {"catalogue": True, "objects": True, "queue": False, "search": True}
