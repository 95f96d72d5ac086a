"""Render a sample folder of synthetic hard pages (with truth.json) for bench/ocr_bench.py.

    python bench/render_hard.py OUT_DIR [--per-kind N] [--seed S]

Pages of every kind in tests/hardpages.py (contract with a red seal, ruled form, ID-card
copy, phone photo, 200-dpi fax), different names and numbers per seed: a check that what
the page reader gains on the few real samples is not fitted to them. Generated data is
never committed; write it outside the repository.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hardpages import RENDERERS  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--per-kind", type=int, default=2)
    ap.add_argument("--seed", type=int, default=100)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    truth = {}
    for kind, render in RENDERERS.items():
        for i in range(args.per_kind):
            page = render(args.seed + i)
            fmt = "jpg" if kind == "photo" else "png"
            name = f"{kind}{i:02d}.{fmt}"
            dpi = page.image.info.get("dpi", (300, 300))
            page.image.save(args.out / name, dpi=dpi, **({"quality": 85} if fmt == "jpg" else {}))
            truth[name] = {"kind": kind, "format": fmt, "pages": [page.text]}
    (args.out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1),
                                         encoding="utf-8")
    print(f"{len(truth)} pages in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
