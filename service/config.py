"""Settings, read from the environment so the same code runs embedded or in production.

| variable | default (embedded) | production example |
| --- | --- | --- |
| DANGAN_DATA | ./dangan-data | /var/lib/dangan |
| DANGAN_DATABASE_URL | sqlite:///$DANGAN_DATA/catalogue.sqlite3 | postgresql+psycopg://u@db/dangan |
| DANGAN_STORAGE_URL | $DANGAN_DATA/objects | s3://KEY:SECRET@minio:9000/dangan?secure=false |
| DANGAN_QUEUE_URL | sqlite:///$DANGAN_DATA/queue.sqlite3 | redis://redis:6379/0 |
| DANGAN_SEARCH_URL | sqlite (embedded FTS5) | http://elasticsearch:9200 |
| DANGAN_WORKERS | number of cores | 4 |
| DANGAN_OCR_TIMEOUT | 180 (seconds per page) | |
| DANGAN_MAX_UPLOAD_BYTES | 2147483648 (2 GiB, one request body) | 4294967296 |
| DANGAN_MAX_PAGES_PER_FILE | 500 | |
| DANGAN_MAX_PAGES_PER_UPLOAD | 2000 | |
| DANGAN_MAX_DECODED_BYTES_PER_FILE | 16 GiB (pixel data / inflated PDF streams) | |
| DANGAN_MAX_DECODED_BYTES_PER_UPLOAD | 64 GiB | |
| DANGAN_PUBLIC_URL | http://127.0.0.1:8000 (QR codes printed from the CLI) | https://dangan.example.com |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import N_, BadSetting

GiB = 1 << 30


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
            workers=max(1, int(env.get("DANGAN_WORKERS") or os.cpu_count() or 1)),
            ocr_timeout=float(env.get("DANGAN_OCR_TIMEOUT") or 180),
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
        )

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
