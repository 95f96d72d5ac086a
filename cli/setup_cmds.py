"""`dangan init`, `serve`, `worker`: set-up and the long-running processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import click

from service.errors import N_, msg

from .common import archive_ready, data_option, emit, fail


@click.command("init")
@data_option
@click.option("--admin-password", help="Password for `admin` (default: a generated one-time password).")
@click.option("--fonds", default="J001", show_default=True, help="Code of the first fonds (全宗号).")
@click.option("--fonds-name", default=None, help="Name of the first fonds.")
@click.option("--json", "as_json", is_flag=True)
def init_cmd(admin_password: str | None, fonds: str, fonds_name: str | None, as_json: bool) -> None:
    """Create the data directory, schema, administrator, first fonds and categories."""
    from service.archive import Archive
    from service.setup import init_archive

    res = init_archive(Archive(), admin_password=admin_password, fonds=fonds,
                       fonds_name=fonds_name)

    def human(r: dict) -> str:
        lines = [f"档案库已就绪 / archive ready: {r['data_dir']}"]
        if r["admin_created"] and r["admin_password"] and not admin_password:
            lines.append(f"管理员 / administrator: admin  一次性密码 / one-time password: "
                         f"{r['admin_password']}")
        elif r["admin_created"]:
            lines.append("管理员 admin 已创建 / administrator admin created")
        return "\n".join(lines)

    emit(res.__dict__, as_json, human)


def _start_worker_process() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cli", "worker"], env=os.environ.copy())


@click.command("serve")
@data_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-workers", is_flag=True, help="Serve only; run `dangan worker` elsewhere.")
def serve_cmd(host: str, port: int, no_workers: bool) -> None:
    """Serve the web app, with background OCR workers running beside it."""
    from service.migrate import upgrade
    from service.setup import ensure_secret_key

    archive = archive_ready()
    upgrade(archive.engine)
    ensure_secret_key(archive)
    worker = None if no_workers else _start_worker_process()
    # SIGTERM (systemd, docker stop) should stop the workers too, through the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        from service.archive import Archive
        from service.db import dispose_all
        from web.app import create_app
        from web.server import serve

        settings = archive.settings
        processes = settings.web_processes
        if processes > 1:
            dispose_all()  # each forked web process opens its own database pool
        click.echo(f"档案系统 / archive: http://{host}:{port}/  (Ctrl+C 停止 / to stop)")
        try:
            serve(lambda: create_app(archive if processes <= 1 else Archive(settings)),
                  host=host, port=port, threads=settings.web_threads, processes=processes)
        except OSError as exc:
            fail(msg(N_("无法在 %(host)s:%(port)s 上提供服务（%(cause)s），端口可能已被占用，请用 --port 换一个。"),
                     host=host, port=port, cause=exc.strerror))
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGINT)
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()


@click.command("worker")
@data_option
@click.option("--workers", "-w", type=int, default=None, help="Worker processes (default: cores).")
def worker_cmd(workers: int | None) -> None:
    """Run the background workers alone (one process per core)."""
    from service.jobs.worker import run_consumer

    archive = archive_ready()
    run_consumer(archive, workers or archive.settings.workers)


@click.command("health")
@data_option
@click.option("--json", "as_json", is_flag=True)
def health_cmd(as_json: bool) -> None:
    """Probe the catalogue, object store, queue and search engine; exit 1 if one fails."""
    from service.archive import Archive
    from service.health import probe

    parts = probe(Archive())
    emit({"healthy": all(p.ok for p in parts), "parts": [p.__dict__ for p in parts]}, as_json,
         lambda r: "\n".join(f"{'ok  ' if p['ok'] else 'FAIL'} {p['part']}: {p['detail']}"
                             for p in r["parts"]))
    if not all(p.ok for p in parts):
        sys.exit(1)
