"""`dangan loans overdue`: the paper loans past their end and not returned, for a daily
reminder run from cron or a report to the archive's manager."""

from __future__ import annotations

import click

from service.errors import N_, Message, msg

from .common import archive_ready, data_option, emit, say


@click.group("loans")
def loans_group() -> None:
    """Lending (借阅)."""


@loans_group.command("overdue")
@data_option
@click.option("--json", "as_json", is_flag=True)
def loans_overdue(as_json: bool) -> None:
    """List paper loans past their end that are not returned (exit status 1 when any)."""
    from service import clock
    from service.lending import local, overdue_loans

    archive = archive_ready()
    with archive.session() as s:
        now = clock.now()
        rows = [{"number": loan.number, "borrower": loan.borrower.username,
                 "name": loan.borrower.display_name, "department": loan.department,
                 "ends_at": clock.aware(loan.ends_at).isoformat(), "ends_local": local(loan.ends_at),
                 "overdue_minutes": int((now - clock.aware(loan.ends_at)).total_seconds() // 60),
                 "items": [li.item.archival_code for li in loan.items]}
                for loan in overdue_loans(s, now)]

    def human(data: list[dict]) -> str:
        if not data:
            return say(Message(N_("没有逾期未还的借阅。")))
        lines = [say(msg(N_("逾期未还 %(n)s 笔："), n=len(data)))]
        lines += [f"{r['number']}  {r['name'] or r['borrower']} ({r['borrower']})  {r['department']}"
                  f"  {r['ends_local']}  {' '.join(r['items'])}" for r in data]
        return "\n".join(lines)

    emit(rows, as_json, human)
    if rows:
        raise SystemExit(1)
