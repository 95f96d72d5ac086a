"""Fixtures for the indexer tests: scans rendered on the fly, never sample files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Make `tests.scanfactory` importable however pytest was started.
_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from tests import scanfactory as sf  # noqa: E402

PHRASE = "甲方应于二〇二四年三月前支付合同款"
LINES = [
    PHRASE + "。",
    "乙方收到款项后十日内开具发票并交付全部货物。",
    "本合同一式两份，双方各执一份，具有同等法律效力。",
    "Contract No. HT-2024-0317, signed in Beijing.",
    "如有争议，双方应协商解决；协商不成的，提交仲裁。",
    "档案管理员负责登记、扫描、上传并核对页数。",
]


@pytest.fixture(scope="session")
def page_image():
    """A small, slightly noisy Chinese page with a red seal (150 dpi)."""
    return sf.render_page(LINES, size=(1240, 620), noise=True, seal=True, skew=1.5)


@pytest.fixture(scope="session")
def plain_page():
    """A clean small page, for format round trips."""
    return sf.render_page(LINES[:3], size=(900, 400))
