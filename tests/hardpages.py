"""Render pages of the hard kinds archives hold, with their true text, for tests and benches.

Each renderer returns a ``HardPage``: the image as a scanner or phone would deliver it and
the text on it in reading order. Drawn with Pillow and Noto CJK (fonts-noto-cjk); a ``seed``
varies the names, numbers and distortions, so a bench can render many different pages.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from tests.scanfactory import _font

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
CITIES = ["深圳市南山区", "青岛市市南区", "北京市海淀区", "上海市浦东新区", "杭州市西湖区"]
COMPANIES = ["博远物业管理有限公司", "宏远文化传媒有限公司", "鼎盛建筑工程有限公司",
             "明德信息技术有限公司", "弘毅商贸有限公司"]
BODY = [
    "根据《中华人民共和国民法典》及有关法律法规的规定，甲乙双方本着平等自愿、",
    "诚实信用的原则，经友好协商，就甲方委托乙方提供档案整理服务事宜达成如下协议。",
    "乙方应按时完成档案的整理、扫描、著录和装盒，并保证数据准确完整。",
    "任何一方违反本合同约定的，应向守约方支付合同总金额百分之二十的违约金。",
    "因本合同引起的争议，双方应友好协商解决；协商不成的，向甲方所在地法院起诉。",
    "本合同一式肆份，甲乙双方各执贰份，具有同等法律效力。",
]


@dataclass
class HardPage:
    kind: str
    image: Image.Image
    text: str


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _id_number(rng: random.Random) -> str:
    body = f"{rng.choice(['440305', '370202', '110108'])}{rng.randint(1960, 2000)}" \
           f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    return body + check


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}"


def _date(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(2018, 2025), rng.randint(1, 12), rng.randint(1, 28)


def _draw_lines(draw: ImageDraw.ImageDraw, lines: list[str], x: int, y: int, px: int,
                fill: int | tuple[int, int, int] = 20) -> int:
    font = _font(px)
    for line in lines:
        draw.text((x, y), line, font=font, fill=fill)
        y += round(px * 1.7)
    return y


def _seal(img: Image.Image, cx: int, cy: int, r: int, name: str) -> None:
    """A red round company seal (ring, star, name along the ring) stamped over what is there.

    Stamp ink multiplies with the page (black text under it stays black), as on paper.
    """
    layer = Image.new("RGB", img.size, (255, 255, 255))
    d = ImageDraw.Draw(layer)
    red = (215, 45, 50)
    d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=max(4, r // 12))
    d.text((cx, cy), "★", font=_font(r // 2), fill=red, anchor="mm")
    font = _font(max(12, r // 4))
    for i, ch in enumerate(name):
        a = math.radians(200 + i * 140 / max(1, len(name) - 1))
        d.text((cx + 0.72 * r * math.cos(a), cy + 0.72 * r * math.sin(a)), ch, font=font,
               fill=red, anchor="mm")
    img.paste(ImageChops.multiply(img.convert("RGB"), layer))


def contract_with_seal(seed: int = 0, dpi: int = 200) -> HardPage:
    """A contract page in colour: title, parties, amount, and a red seal over a text line."""
    rng = random.Random(seed)
    w, h = round(8.27 * dpi), round(11.69 * dpi / 2)
    img = Image.new("RGB", (w, h), (250, 249, 245))
    d = ImageDraw.Draw(img)
    px = round(dpi * 10.5 / 72 * 1.05)
    number = f"HT-{rng.randint(2018, 2025)}-{rng.randint(1, 9999):04d}"
    y0, m0, d0 = _date(rng)
    a, b = rng.sample(COMPANIES, 2)
    lines = ["档案整理服务合同", f"合同编号：{number}", f"甲方：{a}", f"乙方：{b}",
             *rng.sample(BODY, 3), f"签订日期：{y0}年{m0}月{d0}日"]
    margin = round(w * 0.1)
    _draw_lines(d, lines, margin, round(dpi * 0.5), px)
    _seal(img, round(w * 0.62), round(dpi * 0.5 + px * 1.7 * 8.4), round(dpi * 0.75), a + "合同专用章")
    img.info["dpi"] = (dpi, dpi)
    return HardPage("contract", img, "\n".join(lines))


def ruled_form(seed: int = 0, dpi: int = 200) -> HardPage:
    """A ruled registration form (登记表): label and value cells in a grid, read row by row."""
    rng = random.Random(seed)
    w, h = round(8.27 * dpi), round(11.69 * dpi / 2)
    img = Image.new("L", (w, h), 250)
    d = ImageDraw.Draw(img)
    px = round(dpi * 10.5 / 72 * 1.05)
    y0, m0, d0 = _date(rng)
    rows = [
        ("客户编号", f"KH-{y0}{m0:02d}{rng.randint(1, 999):03d}", "登记日期", f"{y0}年{m0}月{d0}日"),
        ("客户名称", rng.choice(COMPANIES), "", ""),
        ("联系人", _person(rng), "手机号码", _phone(rng)),
        ("身份证号码", _id_number(rng), "", ""),
        ("通讯地址", rng.choice(CITIES) + f"{rng.randint(1, 500)}号", "", ""),
    ]
    title = "客户档案登记表"
    d.text((w // 2, round(dpi * 0.4)), title, font=_font(round(px * 1.4)), fill=20, anchor="mm")
    left, right = round(w * 0.08), round(w * 0.92)
    top, row_h = round(dpi * 0.7), round(px * 2.4)
    cols = [left, left + (right - left) * 22 // 100, left + (right - left) * 55 // 100,
            left + (right - left) * 75 // 100, right]
    font = _font(px)
    for i, row in enumerate(rows):
        y = top + i * row_h
        for j, cell in enumerate(row):
            if cell:
                d.text((cols[j] + px // 2, y + row_h // 2), cell, font=font, fill=25, anchor="lm")
        d.line((left, y, right, y), fill=30, width=3)
        wide = not row[2]
        for j, x in enumerate(cols):
            if not wide or j in (0, 1, 4):
                d.line((x, y, x, y + row_h), fill=30, width=3)
    d.line((left, top + len(rows) * row_h, right, top + len(rows) * row_h), fill=30, width=3)
    text = "\n".join([title, *(" ".join(c for c in r if c) for r in rows)])
    img.info["dpi"] = (dpi, dpi)
    return HardPage("form", img, text)


def id_card_copy(seed: int = 0, dpi: int = 300) -> HardPage:
    """A photocopied ID card front on a page: grey card with a wavy pattern, small print."""
    rng = random.Random(seed)
    w, h = round(8.27 * dpi), round(11.69 * dpi / 2)
    img = Image.new("L", (w, h), 246)
    d = ImageDraw.Draw(img)
    cw, ch = round(3.37 * dpi), round(2.13 * dpi)
    cx, cy = (w - cw) // 2, round(dpi * 0.9)
    d.rounded_rectangle((cx, cy, cx + cw, cy + ch), radius=dpi // 10, fill=205, outline=60,
                        width=3)
    for k in range(0, ch, max(6, dpi // 25)):  # the guilloche pattern, lighter than text
        pts = [(cx + x, cy + k + 8 * math.sin((x + 7 * k + seed) / 40)) for x in range(0, cw, 8)]
        d.line(pts, fill=175, width=2)
    small, big = round(dpi * 7 / 72), round(dpi * 9 / 72)
    name, idn = _person(rng), _id_number(rng)
    y, m, dd = int(idn[6:10]), int(idn[10:12]), int(idn[12:14])
    fields = [("姓名", name), ("性别", rng.choice("男女")), ("出生", f"{y}年{m}月{dd}日"),
              ("住址", rng.choice(CITIES) + f"{rng.randint(1, 300)}号")]
    x0, yy = cx + dpi // 6, cy + dpi // 5
    for label, value in fields:
        d.text((x0, yy), label, font=_font(small), fill=70)
        d.text((x0 + round(dpi * 0.45), yy - 2), value, font=_font(big), fill=15)
        yy += round(big * 1.9)
    d.text((x0, cy + ch - dpi // 3), "公民身份号码", font=_font(small), fill=70)
    d.text((x0 + round(dpi * 0.9), cy + ch - dpi // 3 - 4), idn, font=_font(big), fill=15)
    title = "身份证复印件"
    d.text((w // 2, round(dpi * 0.45)), title, font=_font(big), fill=20, anchor="mm")
    note = "与原件核对一致"
    d.text((cx, cy + ch + dpi // 3), note, font=_font(big), fill=30)
    img = img.filter(ImageFilter.GaussianBlur(0.5))
    img.info["dpi"] = (dpi, dpi)
    text = "\n".join([title, *(f"{a} {b}" for a, b in fields), f"公民身份号码 {idn}", note])
    return HardPage("idcard", img, text)


def phone_photo(seed: int = 0) -> HardPage:
    """A notice photographed on a desk: perspective, a shadow, JPEG, 72 dpi declared."""
    rng = random.Random(seed)
    page_dpi = 150
    w, h = round(8.27 * page_dpi), round(11.69 * page_dpi * 0.55)
    page = Image.new("L", (w, h), 240)
    d = ImageDraw.Draw(page)
    px = round(page_dpi * 11 / 72 * 1.05)
    y0, m0, d0 = _date(rng)
    lines = [f"关于{rng.choice(['档案归档', '年度检查', '客户回访'])}工作的通知", "公司各部门：",
             *rng.sample(BODY, 3), f"联系电话：{_phone(rng)}", f"{y0}年{m0}月{d0}日"]
    _draw_lines(d, lines, round(w * 0.08), round(page_dpi * 0.5), px)
    arr = np.asarray(page).astype(np.float32)
    cw, chh = round(w * 1.35), round(h * 1.35)
    canvas = np.full((chh, cw), 95, np.float32)
    canvas += np.random.default_rng(seed).normal(0, 6, canvas.shape).astype(np.float32)
    import cv2

    j = rng.uniform(0.02, 0.06)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[cw * (0.12 + j), chh * 0.12], [cw * (0.88 - j / 2), chh * (0.1 + j)],
                      [cw * 0.9, chh * 0.9], [cw * 0.1, chh * (0.88 - j)]])
    warp = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(arr, warp, (cw, chh), borderValue=-1)
    photo = np.where(warped >= 0, warped, canvas)
    xs = np.linspace(0, 1, cw)[None, :]
    ys = np.linspace(0, 1, chh)[:, None]
    shadow = 1 - 0.35 * np.clip((xs + ys - 1.1) * 3, 0, 1)  # a shadow over one corner
    photo = np.clip(photo * shadow, 0, 255).astype(np.uint8)
    img = Image.fromarray(photo).convert("RGB").filter(ImageFilter.GaussianBlur(0.7))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80, dpi=(72, 72))
    out = Image.open(io.BytesIO(buf.getvalue()))
    out.load()
    return HardPage("photo", out, "\n".join(lines))


def fax_200dpi(seed: int = 0) -> HardPage:
    """A fax: 200 dpi, black and white, specks and broken strokes, a header line."""
    rng = random.Random(seed)
    dpi = 200
    w, h = round(8.27 * dpi), round(11.69 * dpi / 2)
    img = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(img)
    px = round(dpi * 10.5 / 72 * 1.05)
    y0, m0, d0 = _date(rng)
    number = f"HT-{y0}-{rng.randint(1, 9999):04d}"
    lines = [f"{y0}-{m0:02d}-{d0:02d} 08:11 FROM:0532-{rng.randint(10_000_000, 99_999_999)}",
             f"合同编号：{number}", *rng.sample(BODY, 4), f"联系电话：{_phone(rng)}"]
    _draw_lines(d, lines, round(w * 0.08), round(dpi * 0.4), px)
    img = img.filter(ImageFilter.GaussianBlur(0.8))
    arr = np.asarray(img).astype(np.int16)
    noise = np.random.default_rng(seed).normal(0, 40, arr.shape)
    binary = np.where(arr + noise < 150, 0, 255).astype(np.uint8)
    specks = np.random.default_rng(seed + 1).random(arr.shape) < 0.0008
    binary[specks] = 0
    out = Image.fromarray(binary).convert("1").convert("L")
    out.info["dpi"] = (dpi, dpi)
    return HardPage("fax", out, "\n".join(lines))


RENDERERS = {
    "contract": contract_with_seal,
    "form": ruled_form,
    "idcard": id_card_copy,
    "photo": phone_photo,
    "fax": fax_200dpi,
}
