"""`dangan stats`: the archive's statistics (the web page's tables) printed, as JSON, or
written to an XLSX workbook (audited as stats.export)."""

from __future__ import annotations

from pathlib import Path

import click

from .common import archive_ready, data_option, emit, fail, say


@click.command("stats")
@data_option
@click.option("--fonds", metavar="CODE", help="Only this fonds (全宗号, e.g. J001).")
@click.option("--year-from", "year_from", metavar="YYYY", help="Only items of this 年度 or later.")
@click.option("--year-to", "year_to", metavar="YYYY", help="Only items of this 年度 or earlier.")
@click.option("-o", "--output", metavar="FILE.xlsx", help="Also write the tables to FILE.xlsx.")
@click.option("--json", "as_json", is_flag=True)
def stats_cmd(fonds: str | None, year_from: str | None, year_to: str | None,
              output: str | None, as_json: bool) -> None:
    """Holdings, additions, use, loans, cross-check status and storage, as the statistics
    page shows them (the operator reads every figure)."""
    from service.errors import N_, msg
    from service.statistics import Label, Named, statistics
    from service.statistics_export import to_xlsx

    def text(value: Label) -> str:
        return value.bilingual() if isinstance(value, Named) else say(value)

    if output is not None and Path(output).suffix.lower() != ".xlsx":
        fail(msg(N_("统计只能导出为 .xlsx 文件，而不是“%(name)s”。"), name=output), 2)
    args = {"fonds": fonds, "year_from": year_from, "year_to": year_to}
    archive = archive_ready()
    with archive.session() as s:
        stats = statistics(s, None, args)
        if output is not None:
            from service.statistics import record_export

            Path(output).write_bytes(to_xlsx(stats, text))
            record_export(s, None, stats, "xlsx")
    data = {"generated_at": stats.generated_at.isoformat(), "filters": stats.filters.as_dict(),
            "tables": [{"key": t.key, "title": text(t.title),
                        "columns": [text(t.head), *(text(c.title) for c in t.columns)],
                        "units": [c.unit for c in t.columns],
                        "rows": [{"key": r.key, "label": text(r.label), "values": list(r.values)}
                                 for r in t.rows],
                        **({"total": list(t.total())} if t.totals else {})}
                       for t in stats.tables]}

    def human(d: dict) -> str:
        lines: list[str] = []
        for t in d["tables"]:
            lines += ["", f"== {t['title']}", "\t".join(t["columns"])]
            lines += ["\t".join([r["label"], *("—" if v is None else str(v) for v in r["values"])])
                      for r in t["rows"]]
        return "\n".join(lines).lstrip("\n")

    emit({"statistics": data} if as_json else data, as_json, human)
