"""The command line names the infrastructure that failed (issue 8, finding 20)."""

from __future__ import annotations

import pytest
from clihelp import INGEST, dangan


@pytest.mark.parametrize("setting,args,message,code", [
    ("DANGAN_DATABASE_URL", ("check", "--audit"), "数据库暂时无法使用", 75),
    ("DANGAN_STORAGE_URL", ("ingest", "{scan}", *INGEST, "--title", "扫描件"), "存储服务不可用", 5),
])
def test_cli_names_the_failing_service(archive_env, tmp_path, setting, args, message,
                                       code) -> None:
    """The command line says which service failed (exit 5; 75 for a database that cannot be
    reached, which says the command can be run again), instead of a traceback."""
    url = {"DANGAN_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none",
           "DANGAN_STORAGE_URL": "s3://key:secret@127.0.0.1:9/bucket?secure=false"}[setting]
    from PIL import Image

    scan = tmp_path / "scan.png"
    Image.new("RGB", (200, 280), "white").save(scan)
    dangan(archive_env, "init", "--admin-password", "initial-pass")
    args = tuple(a.format(scan=scan) for a in args)
    proc = dangan({**archive_env, setting: url}, *args, check=False, timeout=120)
    assert proc.returncode == code, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
