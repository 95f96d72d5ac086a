"""Messages are an id and parameters, translated where they are shown (#9.4): the same
service error reads in Chinese or English on the web, and in both (or one chosen language)
on the command line, each half from the Babel catalogues."""

from __future__ import annotations

import os
import subprocess
import sys

from indexer.messages import N_, Listing, Message, dumps, loads, msg
from service.errors import InvalidInput, NotFound
from web.i18n import bilingual, render

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_a_message_renders_in_each_language_with_its_parameters():
    exc = InvalidInput(N_("角色“%(role)s”无效，可选：%(choices)s。"), role="boss",
                       choices=Listing(("staff", "archivist")))
    assert exc.message == str(exc) == "角色“boss”无效，可选：staff、archivist。"
    assert render(exc.msg, "zh_CN") == "角色“boss”无效，可选：staff、archivist。"
    assert render(exc.msg, "en") == "Unknown role “boss”; choose from: staff, archivist."
    assert bilingual(exc.msg) == ("角色“boss”无效，可选：staff、archivist。/ "
                                  "Unknown role “boss”; choose from: staff, archivist.")


def test_a_stored_message_comes_back_and_nests():
    wait = msg(N_("%(n)s 分钟"), n=3)
    stored = dumps(Message(N_("登录失败次数过多，请 %(wait)s后再试。"), {"wait": wait}))
    back = loads(stored)
    assert back == Message(N_("登录失败次数过多，请 %(wait)s后再试。"), {"wait": wait})
    assert render(stored, "en") == "Too many failed sign-ins: try again in 3 min."
    assert render(stored, "zh_CN") == "登录失败次数过多，请 3 分钟后再试。"
    assert loads("plain text { not json") == "plain text { not json"
    assert str(NotFound(N_("用户“%(name)s”不存在。"), name="x")) == "用户“x”不存在。"


def test_a_service_error_on_the_web_in_chinese_and_in_english(client, h):
    h.login(client, "bob")

    def short_password() -> str:
        r = client.post("/account/password", data={
            "current": h.PW, "new": "short", "confirm": "short",
            "csrf_token": h.csrf(client, "/account/password")})
        assert r.status_code == 400
        return r.get_data(as_text=True)

    body = short_password()
    assert "密码至少8个字符。" in body and "Password must have" not in body
    client.post("/lang", data={"lang": "en", "next": "/account/password",
                               "csrf_token": h.csrf(client, "/account/password")})
    body = short_password()
    assert "Password must have at least 8 characters." in body and "密码至少" not in body


def test_a_service_error_on_the_command_line(archive_env):
    env = {**os.environ, **archive_env}
    env.pop("DANGAN_LANG", None)
    run = [sys.executable, "-m", "cli"]
    subprocess.run([*run, "init", "--admin-password", "initial-pass"], cwd=ROOT, env=env,
                   check=True, capture_output=True)

    def add_boss(lang: str | None) -> str:
        proc = subprocess.run([*run, "user", "add", "zhao", "--password", "password-1",
                               "--role", "boss"], cwd=ROOT, capture_output=True, text=True,
                              env={**env, "DANGAN_LANG": lang} if lang else env)
        assert proc.returncode == 2, proc.stderr
        return proc.stderr

    both = add_boss(None)  # Chinese, then English, as the command line always printed
    assert both.startswith("错误 / error: 角色“boss”无效，可选：admin、")
    assert "。/ Unknown role “boss”; choose from: admin, " in both
    english = add_boss("en")
    assert "error: Unknown role “boss”; choose from: admin, " in english and "无效" not in english
    chinese = add_boss("zh_CN")
    assert "error: 角色“boss”无效，可选：admin、" in chinese and "Unknown" not in chinese


def _calls(package: str):
    import ast
    from pathlib import Path

    for path in sorted(Path(ROOT, package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            yield path, node


def test_every_message_is_an_id_marked_for_extraction():
    """An error or a message built from a literal (or an f-string) instead of N_("…") would be
    missing from the catalogue, and "中文 / English" text is gone from the code."""
    import ast
    import re

    import service.errors as errors

    classes = {name for name, obj in vars(errors).items()
               if isinstance(obj, type) and issubclass(obj, errors.DanganError)}
    classes |= {"AlreadyStored", "Message", "msg"}
    bilingual_text = re.compile(r"[\u3400-\u9fff][^\n]*/ [A-Z]")
    #: Not messages: the API description names a page in both languages; the audit chain's
    #: missing head is an internal error (a 500 with the text in the log only); the two-set
    #: report's files, the box paperwork and the cross-references stored with an item are
    #: bilingual documents of the archive, printed as they are (the loan and destruction
    #: registers and the exported audit trail too).
    allowed = {"openapi.py", "audit.py", "report_export.py", "paperwork_pdf.py", "twoset.py",
               "i18n.py", "loan_register.py", "destruction_register.py", "audit_trail.py"}
    bad = []
    for package in ("service", "indexer", "cli", "web"):
        for path, node in _calls(package):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                args = node.args[1:2] if node.func.id == "IngestError" else node.args[:1]
                if (node.func.id in classes | {"IngestError"} and args
                        and isinstance(args[0], ast.Constant | ast.JoinedStr)):
                    bad.append(f"{path.name}:{node.lineno}")
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and bilingual_text.search(node.value) and path.name not in allowed):
                bad.append(f"{path.name}:{node.lineno}")
    assert not bad, bad
