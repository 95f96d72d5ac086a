"""Running the real `dangan` command in a subprocess, as users and outside checks do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def dangan(env: dict[str, str], *args: str, timeout: float = 240,
           check: bool = True) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    proc = subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"dangan {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc


def dangan_json(env: dict[str, str], *args: str, timeout: float = 240) -> dict:
    return json.loads(dangan(env, *args, "--json", timeout=timeout).stdout)


INGEST = ("--category", "HT", "--year", "2024", "--retention", "D30", "--secrecy", "内部")
