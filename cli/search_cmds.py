"""`dangan search`, `reindex`, `check`: the index and the fixity of stored files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from service.errors import N_, Message, msg

from .common import (
    archive_ready,
    data_option,
    emit,
    fail,
    say,
    search_filter_options,
)


@click.command("search")
@data_option
@click.argument("query", required=False, default="")
@click.option("--limit", default="10", show_default=True, help="Hits per page, 1–100.")
@click.option("--page", default="1", show_default=True)
@click.option("--as", "as_user", default=None, help="Search with this user's permissions.")
@search_filter_options
@click.option("--sort", default=None,
              help="relevance (default with a query), code (by 档号, default without), "
                   "date_desc, date_asc.")
@click.option("--json", "as_json", is_flag=True)
def search_cmd(query: str, as_user: str | None, as_json: bool, **args: str | None) -> None:
    """Full-text search over page text and catalogue fields; without QUERY, list the
    catalogue by the filters (sorted by 档号)."""
    from service.search import parse_search_params, run_search

    archive = archive_ready()
    params = parse_search_params({"q": query, **args})
    data = run_search(archive, params, username=as_user)

    def human(d: dict) -> str:
        lines = [f"共 {d['total']} 件 / {d['total']} items"]
        for h in d["hits"]:
            where = f"  第{h['page']}页  {h['snippet']}" if h["page"] else ""
            lines.append(f"[{h['id']}] {h['archival_code']}  {h['title']}{where}")
        return "\n".join(lines)

    emit(data, as_json, human)


@click.command("reindex")
@data_option
@click.option("--full", is_flag=True, help="Rebuild everything instead of only missing/stale items.")
@click.option("--json", "as_json", is_flag=True)
def reindex_cmd(full: bool, as_json: bool) -> None:
    """Rebuild the search index from the catalogue (resumable: skips items already current)."""
    from service.search import reindex

    archive = archive_ready()

    def progress(done: int, total: int) -> None:
        if not as_json:
            click.echo(f"\r索引 / indexing {done}/{total}", nl=False, err=True)

    res = reindex(archive, full=full, progress=progress)
    if not as_json:
        click.echo("", err=True)
    emit(res, as_json, lambda d: f"已索引 / indexed {d['indexed']}，跳过 / skipped {d['skipped']}，"
                                 f"移除 / removed {d['removed']}")


def anchor_lines(a: dict) -> list[str]:
    """The chain against its anchor in the object store, for `check --audit`'s report."""
    anchor = a.get("anchor")
    problem = a.get("anchor_problem")
    if anchor is not None:
        where = f"{anchor['entries']} entries, newest #{anchor['id']} {anchor['hash'][:12]}…"
        head = f"审计锚点 / anchor: {where}; {a['unanchored']} newer entries not yet anchored"
    else:
        head = "审计锚点 / anchor: none"
    if problem is None:
        return [head]
    text = {
        "missing": "对象存储中没有审计锚点，而审计链有记录（锚点被删除？）/ no anchor in the "
                   "object store although the chain has entries (anchor removed?)",
        "short": f"审计链只有 {a['checked']} 条记录，锚点记录了 {anchor and anchor['entries']} 条："
                 f"最新的记录被删除 / the chain has {a['checked']} entries but the anchor "
                 f"recorded {anchor and anchor['entries']}: the newest entries were removed",
        "moved": f"锚点位置上的记录不是 #{anchor and anchor['id']}（其前有记录被插入或删除）/ "
                 f"the entry at the anchored position is not #{anchor and anchor['id']} "
                 f"(entries inserted or removed before it)"
                 + ("" if a.get("anchored_entry_exists") else
                    f"; #{anchor and anchor['id']} 已不存在 / #{anchor and anchor['id']} is gone"),
        "changed": f"锚定的记录 #{anchor and anchor['id']} 的哈希已变（审计链被改写）/ the anchored "
                   f"entry #{anchor and anchor['id']} has another hash (the chain was rewritten)",
        "unreadable": f"审计锚点无法读取 / the anchor cannot be read: {a.get('anchor_error')}",
    }[problem]
    return [head, f"  ✗ {text}"]


def _four_properties(archive: Any, item_id: int | None, batch_id: int | None,
                     export_to: str | None) -> dict:
    """Run the four-property check (one item, a batch or all), export it if asked."""
    from service.fourprops_report import report_rows, run_four_properties

    result = run_four_properties(archive, None, item_id=item_id, batch_id=batch_id)
    if export_to:
        from service.fourprops_report import export_rows

        checked = {c.item_id for c in result.checked}
        with archive.session() as s:
            rows = [r for r in report_rows(s, None, batch_id=batch_id) if r.item_id in checked]
            export_rows(archive, None, rows, Path(export_to), say, target=result.target)
    return result.to_dict()


def four_property_lines(r: dict) -> list[str]:
    """`check --four-properties` as text: the counts, then each failing item's findings."""
    f = r["failed"]
    lines = [f"四性检测 / four properties: {r['checked']} items checked, {len(r['skipped'])} "
             f"skipped; failed: 真实性/authenticity {f['authenticity']}, 完整性/integrity "
             f"{f['integrity']}, 可用性/usability {f['usability']}, 安全性/security {f['security']}"]
    for item in r["items"]:
        if item["passed"]:
            continue
        lines.append(f"  ✗ item {item['item_id']}:")
        lines += [f"      [{x['code']}] {x['message']}" for x in item["findings"]]
    return lines


@click.command("check")
@data_option
@click.option("--fixity", is_flag=True, help="Re-hash every stored object and compare with its SHA-256.")
@click.option("--index", "index_", is_flag=True, help="List items missing from or stale in the index.")
@click.option("--audit", is_flag=True,
              help="Verify the audit trail's hash chain and its anchor in the object store; "
                   "lists altered, inserted, forked or removed entries.")
@click.option("--orphans", is_flag=True,
              help="List stored objects no catalogue row references, leftovers of "
                   "interrupted uploads (temporaries, unfinished multipart uploads) and "
                   "temporaries in DATA/tmp untouched for a week (as the hourly purge does).")
@click.option("--delete", is_flag=True,
              help="With --orphans: remove them, except objects younger than --grace.")
@click.option("--grace", type=click.FloatRange(min=0), default=3600, show_default=True,
              help="Seconds: nothing younger is deleted (an upload may be in progress).")
@click.option("--two-set", "two_set", is_flag=True,
              help="The two-set consistency report (两套制): paper against scans, boxes, "
                   "item numbers, stored files.")
@click.option("--four-properties", "four", is_flag=True,
              help="四性检测: authenticity, integrity, usability and security of every item "
                   "(or of --item / --batch); each result is kept for the web's reports.")
@click.option("--item", "item_id", type=int, default=None,
              help="With --four-properties: only this item (its id).")
@click.option("--batch", "batch_id", type=int, default=None,
              help="With --four-properties: only the items of this batch registration "
                   "(its number, as the web's 四性检测 page lists it).")
@click.option("--export", "export_to", type=click.Path(dir_okay=False), default=None,
              help="With --two-set: also write the report to FILE (.csv, .xlsx or .pdf); "
                   "with --four-properties, to FILE (.csv or .xlsx).")
@click.option("--json", "as_json", is_flag=True)
def check_cmd(fixity: bool, index_: bool, audit: bool, orphans: bool, delete: bool,
              grace: float, two_set: bool, four: bool, item_id: int | None,
              batch_id: int | None, export_to: str | None, as_json: bool) -> None:
    """Integrity checks (all but --orphans, --two-set and --four-properties when no option is
    given); exits 1 on a problem."""
    from service.checks import check_audit, check_fixity, check_index, check_orphans
    from service.report_export import EXPORT_FORMATS, export_audited
    from service.twoset_report import two_set_report

    if delete and not orphans:
        fail(Message(N_("--delete 只能与 --orphans 一起使用。")), 2)
    if (item_id is not None or batch_id is not None) and not four:
        fail(Message(N_("--item 和 --batch 只能与 --four-properties 一起使用。")), 2)
    if item_id is not None and batch_id is not None:
        fail(Message(N_("--item 和 --batch 只能选一个。")), 2)
    fmt = Path(export_to).suffix.lower().lstrip(".") if export_to else None
    if export_to and two_set == four:
        fail(msg(N_("--export 只能与 --two-set 或 --four-properties 之一一起使用。")), 2)
    if fmt is not None and two_set and fmt not in EXPORT_FORMATS:
        fail(msg(N_("--export 文件应以 .csv、.xlsx 或 .pdf 结尾，而不是 %(name)s。"),
                 name=repr(export_to)), 2)
    if fmt is not None and four and fmt not in ("csv", "xlsx"):
        fail(msg(N_("--export 文件应以 .csv 或 .xlsx 结尾，而不是 %(name)s。"),
                 name=repr(export_to)), 2)
    if not (fixity or index_ or audit or orphans or two_set or four):
        fixity = index_ = audit = True
    archive = archive_ready()
    report: dict = {}
    if four:
        report["four_properties"] = _four_properties(archive, item_id, batch_id, export_to)
    if two_set:
        found = two_set_report(archive, None)
        report["two_set"] = found.to_dict()
        if export_to and fmt:
            Path(export_to).write_bytes(export_audited(archive, None, found, fmt, say))
    if orphans:
        report["orphans"] = check_orphans(archive, delete=delete, grace=grace)
    if fixity:
        report["fixity"] = check_fixity(archive)
    if index_:
        report["index"] = check_index(archive)
    if audit:
        report["audit"] = check_audit(archive)
    problems = len(report.get("two_set", {}).get("findings", [])) + \
        len(report.get("fixity", {}).get("bad", [])) + sum(
        len(report.get("index", {}).get(k, [])) for k in ("missing", "stale", "orphaned"))
    if audit:
        problems += report["audit"]["problems"]
    if four:
        problems += sum(1 for i in report["four_properties"]["items"] if not i["passed"])
    if orphans:  # anything past the grace period still there (and still unused) is a problem
        o = report["orphans"]
        problems += sum(1 for e in o["orphans"] + o["leftovers"]
                        if not e.get("deleted") and e.get("kept") != "recorded"
                        and e["age_seconds"] >= grace)
        problems += sum(1 for e in o["temporaries"] if not e.get("deleted"))

    def human(r: dict) -> str:
        lines = four_property_lines(r["four_properties"]) if "four_properties" in r else []
        if "two_set" in r:
            t = r["two_set"]
            c = t["checked"]
            lines.append(f"两套制 / two-set: {c['items']} items, {c['boxes']} boxes, "
                         f"{c['files']} files; {len(t['findings'])} findings")
            lines += [f"  ✗ {f['subject']}: {f['kind']} — {f['detail']}" for f in t["findings"]]
        if "fixity" in r:
            f = r["fixity"]
            lines.append(f"固定性 / fixity: {f['checked']} checked, {len(f['bad'])} bad")
            lines += [f"  ✗ {b['key']} ({b['problem']}) item {b['item_id']}" for b in f["bad"]]
        if "index" in r:
            i = r["index"]
            lines.append(f"索引 / index: {i['checked']} items; missing {i['missing']}, "
                         f"stale {i['stale']}, orphaned {i['orphaned']}")
        if "audit" in r:
            a = r["audit"]
            lines.append(f"审计链 / audit chain: {a['checked']} entries, {len(a['bad'])} bad"
                         + ("" if a["head_ok"] else
                            "; 链头与最后一条记录不符（记录被删除？）/ head does not match the last "
                            "entry (entries removed?)"))
            names = {"link": "链接断开或分叉 / broken link or fork",
                     "hash": "内容被改动 / content altered"}
            lines += [f"  ✗ #{b['id']} {b['at']} {b['actor']} {b['action']} {b['target']}: "
                      + "; ".join(names[p] for p in b["problems"]) for b in a["bad"]]
            lines += anchor_lines(a)
        if "orphans" in r:
            o = r["orphans"]
            lines.append(f"孤立对象 / orphaned objects: {len(o['orphans'])}; "
                         f"未完成的上传 / unfinished uploads: {len(o['leftovers'])}; "
                         f"已删除 / removed {o['removed']}")
            for e in o["orphans"] + o["leftovers"]:
                state = ("已删除 / deleted" if e.get("deleted") else
                         "列出后已被写入或登记，保留 / kept (written or recorded since listed)"
                         if e.get("kept") == "recorded" else
                         "未满宽限期，保留 / kept (grace)" if e.get("kept") else "")
                lines.append(f"  {e.get('key') or e['kind'] + ':' + e['name']} "
                             f"({e['age_seconds']} s) {state}".rstrip())
            lines.append(f"过期临时文件 / stale temporaries: {len(o['temporaries'])}")
            lines += [f"  {e['path']} ({e['age_seconds']} s)"
                      + (" 已删除 / deleted" if e.get("deleted") else "")
                      for e in o["temporaries"]]
        return "\n".join(lines)

    emit(report, as_json, human)
    sys.exit(1 if problems else 0)
