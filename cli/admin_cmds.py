"""`dangan user|customer|box add`: reference data from the command line (scripts, set-up)."""

from __future__ import annotations

import click

from .common import archive_ready, data_option, emit


@click.group("user")
def user_group() -> None:
    """Accounts."""


@user_group.command("add")
@data_option
@click.argument("username")
@click.option("--password", required=True)
@click.option("--role", default="staff", show_default=True,
              help="admin manager executive archivist officer dept_manager staff")
@click.option("--name", "display_name", default="")
@click.option("--department", default=None)
@click.option("--privacy", default="role", show_default=True,
              help="the right to read ID and mobile numbers and open items holding ID copies: "
                   "role (as the role has it), yes, no")
@click.option("--json", "as_json", is_flag=True)
def user_add(username: str, password: str, role: str, display_name: str,
             department: str | None, privacy: str, as_json: bool) -> None:
    from service.access import can_see_personal
    from service.accounts import privacy_choice
    from service.audit import record
    from service.audit_actions import AuditAction
    from service.users import create_user

    archive = archive_ready()
    with archive.session() as s:
        right = privacy_choice(privacy)
        u = create_user(s, username, password, role=role, display_name=display_name,
                        department=department)
        u.privacy_right = right
        record(s, "cli", AuditAction.USER_ADD, f"user:{u.id}", {"username": username, "role": role,
                                                          "privacy_right": right})
        data = {"id": u.id, "username": u.username, "role": u.role, "department": u.department,
                "privacy": can_see_personal(u)}
    emit(data, as_json, lambda d: f"用户 / user {d['username']} ({d['role']}) id={d['id']}")


@click.group("customer")
def customer_group() -> None:
    """Customer files (客户档案)."""


@customer_group.command("add")
@data_option
@click.argument("number")
@click.option("--name", required=True)
@click.option("--kind", default="企业", show_default=True, help="企业 or 个人")
@click.option("--grade", default="普通", show_default=True, help="战略 重点 普通 潜在")
@click.option("--industry", default=None)
@click.option("--contacts", default=None)
@click.option("--owner", default=None, help="Username of the staff member who owns the relationship.")
@click.option("--json", "as_json", is_flag=True)
def customer_add(number: str, name: str, kind: str, grade: str, industry: str | None,
                 contacts: str | None, owner: str | None, as_json: bool) -> None:
    from service.catalogue import create_customer
    from service.users import get_user

    archive = archive_ready()
    with archive.session() as s:
        owner_user = None
        if owner:
            owner_user = get_user(s, owner)
        c = create_customer(s, number, name, kind=kind, grade=grade, industry=industry,
                            contacts=contacts, owner=owner_user)
        data = {"id": c.id, "number": c.number, "name": c.name, "owner": owner,
                "department": c.department}
    emit(data, as_json, lambda d: f"客户 / customer {d['number']} {d['name']}")


@click.group("box")
def box_group() -> None:
    """Boxes (盒) and their shelves."""


@box_group.command("add")
@data_option
@click.argument("barcode")
@click.option("--room", default=None, help="库房 code, e.g. A")
@click.option("--rack", default=None, help="架")
@click.option("--section", default=None, help="节/列")
@click.option("--shelf", default=None, help="层")
@click.option("--year", type=int, default=None)
@click.option("--retention", default=None)
@click.option("--org", default=None)
@click.option("--json", "as_json", is_flag=True)
def box_add(barcode: str, room: str | None, rack: str | None, section: str | None,
            shelf: str | None, year: int | None, retention: str | None, org: str | None,
            as_json: bool) -> None:
    from service.errors import N_, InvalidInput
    from service.locations import box_path, create_box, ensure_shelf

    parts = (room, rack, section, shelf)
    if any(parts) and not all(parts):
        raise InvalidInput(N_("上架需同时给出 --room --rack --section --shelf。"))
    archive = archive_ready()
    with archive.session() as s:
        where = ensure_shelf(s, room, rack, section, shelf) if room and rack and section and shelf \
            else None
        box = create_box(s, barcode, year=year, retention=retention, org_code=org, shelf=where,
                         actor="cli")
        data = {"id": box.id, "barcode": box.barcode, "location": box_path(box)}
    emit(data, as_json, lambda d: f"档案盒 / box {d['barcode']}: {d['location']}")
