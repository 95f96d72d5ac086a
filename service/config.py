"""Settings, read from the environment so the same code runs embedded or in production.

Every variable is documented in one table, README.md's "Configuration (environment)";
tests/service/test_config.py fails when code reads a variable the table does not list,
or the table lists one nobody reads. The environment is read when `Settings.from_env()`
is called (the archive object does it once), never at import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import N_, BadSetting

GiB = 1 << 30
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    storage_url: str
    queue_url: str
    search_url: str
    workers: int
    ocr_timeout: float
    queue_name: str
    max_upload_bytes: int = 2 * 1024**3
    #: Resource caps checked from each file's structure before any page is decoded.
    max_pages_per_file: int = 500
    max_pages_per_upload: int = 2000
    max_decoded_bytes_per_file: int = 16 * GiB
    max_decoded_bytes_per_upload: int = 64 * GiB
    #: The web app's address as users open it: QR codes printed from the command line link here.
    public_url: str = "http://127.0.0.1:8000"
    #: Session cookies only over https (behind a proxy that terminates TLS).
    secure_cookies: bool = False
    #: Reverse proxies in front of the web app whose X-Forwarded-For/-Proto are trusted.
    proxy_hops: int = 0
    #: Threads of the web server (waitress) answering requests in one web process: one
    #: answers them one after the other, where threads share the process's core (web.server).
    web_threads: int = 1
    #: Web processes of `dangan serve` (one answers on about one core at most).
    web_processes: int = 1
    #: How much lower than the web the OCR workers run (os.nice): searches keep their
    #: speed while uploads are read.
    worker_nice: int = 10
    #: The key signing web sessions; empty: a generated one kept in the data directory
    #: (service.setup.ensure_secret_key). Set it when web replicas share no data directory.
    secret_key: str = field(default="", repr=False)
    #: How long a worker's claim on a page holds without its heartbeat (renewed every
    #: quarter of it while the page runs): a worker on any machine that dies mid-page
    #: leaves a page whose lease runs out, and another worker's reconcile queues it again.
    page_lease: float = 60.0
    #: Seconds between runs of the reconcile (once per period across all workers).
    reconcile_interval: float = 60.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data = Path(env.get("DANGAN_DATA") or "dangan-data").expanduser().resolve()
        return cls(
            data_dir=data,
            database_url=env.get("DANGAN_DATABASE_URL") or f"sqlite:///{data / 'catalogue.sqlite3'}",
            storage_url=env.get("DANGAN_STORAGE_URL") or str(data / "objects"),
            queue_url=env.get("DANGAN_QUEUE_URL") or f"sqlite:///{data / 'queue.sqlite3'}",
            search_url=env.get("DANGAN_SEARCH_URL") or "sqlite",
            workers=_count(env, "DANGAN_WORKERS", os.cpu_count() or 1),
            ocr_timeout=_seconds(env, "DANGAN_OCR_TIMEOUT", 180.0),
            queue_name=env.get("DANGAN_QUEUE_NAME") or "dangan",
            max_upload_bytes=_positive_int(env, "DANGAN_MAX_UPLOAD_BYTES", cls.max_upload_bytes),
            max_pages_per_file=_positive_int(env, "DANGAN_MAX_PAGES_PER_FILE", cls.max_pages_per_file),
            max_pages_per_upload=_positive_int(env, "DANGAN_MAX_PAGES_PER_UPLOAD",
                                               cls.max_pages_per_upload),
            max_decoded_bytes_per_file=_positive_int(env, "DANGAN_MAX_DECODED_BYTES_PER_FILE",
                                                 cls.max_decoded_bytes_per_file),
            max_decoded_bytes_per_upload=_positive_int(env, "DANGAN_MAX_DECODED_BYTES_PER_UPLOAD",
                                                   cls.max_decoded_bytes_per_upload),
            public_url=(env.get("DANGAN_PUBLIC_URL") or cls.public_url).rstrip("/"),
            secure_cookies=_flag(env, "DANGAN_SECURE_COOKIES"),
            proxy_hops=_count(env, "DANGAN_PROXY_HOPS", 0, minimum=0),
            web_threads=_count(env, "DANGAN_WEB_THREADS", cls.web_threads),
            web_processes=_count(env, "DANGAN_WEB_PROCESSES", os.cpu_count() or 1),
            worker_nice=_count(env, "DANGAN_WORKER_NICE", cls.worker_nice, minimum=0),
            secret_key=_secret(env, "DANGAN_SECRET_KEY"),
            page_lease=_seconds(env, "DANGAN_PAGE_LEASE", cls.page_lease),
            reconcile_interval=_seconds(env, "DANGAN_RECONCILE_INTERVAL", cls.reconcile_interval),
        )

    @classmethod
    def from_file(cls, path: Path) -> Settings:
        """Another archive's settings, from a file of `DANGAN_*=value` lines (the format of
        deploy/.env; `dangan migrate --to`): only its DANGAN_* lines count, never this
        process's environment, so nothing of the running archive leaks into them."""
        from dotenv import dotenv_values

        values = {k: v for k, v in dotenv_values(path).items()
                  if k.startswith("DANGAN_") and v is not None}
        missing = [k for k in ("DANGAN_DATABASE_URL", "DANGAN_STORAGE_URL", "DANGAN_DATA")
                   if not values.get(k)]
        if missing:
            raise BadSetting(N_("设置文件 %(path)s 缺少 %(names)s：请写上目标档案库的数据库、对象存储和"
                                "数据目录（格式同 deploy/.env.example 与 README 的配置表）。"),
                             path=str(path), names=", ".join(missing))
        return cls.from_env(values)

    @property
    def secret_key_file(self) -> Path:
        return self.data_dir / "secret.key"


def _positive_int(env: dict[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise BadSetting(N_("%(name)s 应为正整数（字节数），而不是“%(raw)s”。"), name=name, raw=raw)
    return int(raw)


def _count(env: dict[str, str], name: str, default: int, minimum: int = 1) -> int:
    """A whole number of at least `minimum` (processes, threads, proxies)."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return max(minimum, default)
    if not raw.isdigit() or int(raw) < minimum:
        raise BadSetting(N_("%(name)s 应为不小于 %(minimum)s 的整数，而不是“%(raw)s”。"),
                         name=name, minimum=minimum, raw=raw)
    return int(raw)


def _seconds(env: dict[str, str], name: str, default: float) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise BadSetting(N_("%(name)s 应为正数（秒），而不是“%(raw)s”。"), name=name, raw=raw)
    return value


def _secret(env: dict[str, str], name: str, minimum: int = 32) -> str:
    """A secret from the environment, or "" when unset; a short one is refused."""
    raw = (env.get(name) or "").strip()
    if raw and len(raw) < minimum:
        raise BadSetting(N_("%(name)s 太短：至少需要 %(minimum)s 个字符（例如 `openssl rand -hex 32` 生成的）。"),
                         name=name, minimum=minimum)
    return raw


def _flag(env: dict[str, str], name: str) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw in _TRUE or raw in _FALSE:
        return raw in _TRUE
    raise BadSetting(N_("%(name)s 应为 1 或 0（开或关），而不是“%(raw)s”。"), name=name, raw=raw)
