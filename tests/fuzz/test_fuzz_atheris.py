"""A short, bounded run of each coverage-guided fuzz target (bench/fuzz_atheris.py), where
the optional `fuzz` extra (atheris) is installed; the hypothesis tests beside this file are
the ones every `make test` runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize("target", ["sniff", "codes", "query", "sheet-csv", "document"])
def test_a_bounded_atheris_run_finds_nothing(tmp_path: Path, target: str) -> None:
    pytest.importorskip("atheris", reason="pip install -e '.[fuzz]' to run the atheris targets")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench/fuzz_atheris.py"), target, "-runs=1500",
         "-max_total_time=8", "-timeout=20", "-rss_limit_mb=2048"],
        capture_output=True, text=True, timeout=120, env={"FUZZ_OUT": str(tmp_path),
                                                           "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Done" in proc.stderr and not list(tmp_path.glob("crash-*"))
