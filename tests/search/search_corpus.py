"""A small, real-Chinese corpus of archive items for the search contract tests.

Every item's facts (catalogue fields, secrecy, owner) are plain data so the
tests can compute the expected answer independently of any engine.
"""

from __future__ import annotations

from indexer.search.types import PageDoc

PARTIES = [
    ("上海鑫源钢铁贸易有限公司", "北京宏达建材有限公司"),
    ("广州华南物流股份有限公司", "深圳前海科技发展有限公司"),
    ("杭州西湖茶叶合作社", "南京金陵纺织厂"),
    ("成都天府软件园管理有限公司", "重庆山城机械制造有限公司"),
    ("武汉长江航运集团", "天津港口服务有限公司"),
    ("苏州工业园区投资公司", "青岛海洋食品有限公司"),
]

GOODS = ["钢材", "水泥", "办公设备", "计算机软件", "茶叶", "纺织面料", "冷链运输服务", "机械配件"]

# generic clauses, none containing 甲方乙方 / 乙方甲方 / 鑫 / 量子 / 恶意 / 租赁 / 违约
CLAUSES = [
    "本合同自双方签字盖章之日起生效，一式两份，双方各执一份，具有同等法律效力。",
    "付款方式：验收合格后三十日内以银行转账方式支付全部货款。",
    "交货地点为需方指定仓库，运输费用由供方承担。",
    "质量标准按照国家相关标准执行，如有异议应在收货后七日内书面提出。",
    "本合同未尽事宜，由双方协商解决；协商不成的，提交合同签订地人民法院诉讼解决。",
    "双方应对在履行本合同过程中知悉的商业信息承担保密义务。",
]


def _words(text: str) -> list[dict]:
    """Fake OCR word boxes: 2-character words, one line per text line."""
    out: list[dict] = []
    for ln, line in enumerate(text.split("\n")):
        for col in range(0, len(line), 2):
            t = line[col : col + 2]
            out.append(
                {"t": t, "x": 100 + col * 30, "y": 100 + ln * 40, "w": 30 * len(t), "h": 32,
                 "c": 90, "l": f"1.1.{ln}"}
            )
    return out


# (item_id, extra page texts, overrides)
SPECIAL: dict[int, dict] = {
    1: {"pages": ["经甲方乙方友好协商，就钢材采购事宜达成如下协议。"]},
    2: {"pages": ["乙方甲方均已阅读并理解本协议全部条款，水泥按批次交付。"]},
    3: {"pages": ["合同编号：HT-2024-0031，签订日期2024年5月12日。"]},
    4: {"pages": ["合同编号：HT-2024-0032，签订日期2024年6月3日。"]},
    5: {"meta": "客户编号 KH-202405001 客户名称 青岛海洋食品有限公司", "customer": "青岛海洋食品有限公司",
        "pages": ["客户基本信息登记表，营业执照复印件一份。"]},
    6: {"pages": ["合同编号：ＨＴ－２０２３－０１０８，供货单位：ＡＢＣ公司。"]},
    7: {"pages": ['附件中发现恶意代码<script>alert("x")</script>，已由信息部门清除。']},
    8: {"pages": ["本批货物由鑫源仓储负责保管。"]},
    9: {"pages": ["本次采购标的为热轧钢材二百吨，违约金按合同总价百分之五计算。"]},
    10: {"pages": ["本次采购标的为水泥五百吨。"]},
    11: {"pages": ["办公用房租赁期限为三年，租金按季度支付。"]},
    12: {"pages": ["设备租赁合同，承租方逾期付款构成违约。"]},
    13: {"pages": ["第一页：合同首页。", "第二页：特别约定冷库温度不得高于零下十八度。", "第三页：签章页。"]},
    # permission fixtures: all contain 量子通信
    20: {"secrecy": "绝密", "owner_id": 1, "department": "销售部",
         "pages": ["量子通信设备采购项目，绝密级。"]},
    21: {"secrecy": "公开", "owner_id": 99, "department": "研发部",
         "pages": ["量子通信实验室建设合同。"]},
    22: {"secrecy": "公开", "owner_id": 1, "department": "研发部",
         "pages": ["量子通信线路租用协议。"]},
    23: {"secrecy": "内部", "owner_id": 98, "department": "销售部",
         "pages": ["量子通信终端销售合同。"]},
    24: {"secrecy": "机密", "owner_id": 1, "department": "销售部",
         "pages": ["量子通信密钥管理办法，机密级。"]},
}

N_ITEMS = 26
FONDS = ["J001", "Z109"]
CATEGORIES = ["HT", "WS", "KH"]
RETENTIONS = ["Y", "D30", "D10"]
STATUSES = ["在库", "借出"]
DEPTS = ["销售部", "财务部"]


def build_corpus() -> list[PageDoc]:
    docs: list[PageDoc] = []
    for i in range(1, N_ITEMS + 1):
        sp = SPECIAL.get(i, {})
        a, b = PARTIES[i % len(PARTIES)]
        goods = GOODS[i % len(GOODS)]
        year = 2019 + i % 6
        fonds = FONDS[i % 2]
        cat = CATEGORIES[i % 3]
        ret = RETENTIONS[i % 3]
        code = f"{fonds}-{cat}·{year}-{ret}-XSB-{i:04d}"
        title = f"{goods}购销合同（{b}）"
        head = f"{goods}购销合同\n需方：{a}\n供方：{b}\n"
        body = "\n".join(CLAUSES[(i + k) % len(CLAUSES)] for k in range(3))
        extra = sp.get("pages", [])
        if len(extra) > 1:
            texts = [head + extra[0]] + extra[1:]
        else:
            texts = [head + (extra[0] + "\n" if extra else "") + body]
        if i % 4 == 0 and len(texts) == 1:
            texts.append("附件：" + CLAUSES[i % len(CLAUSES)])
        for n, text in enumerate(texts, start=1):
            docs.append(
                PageDoc(
                    item_id=i,
                    page_no=n,
                    text=text,
                    words=_words(text),
                    meta_text=sp.get("meta", f"{code} {title} {b}"),
                    archival_code=code,
                    title=title,
                    fonds=fonds,
                    category=cat,
                    year=year,
                    retention=ret,
                    secrecy=sp.get("secrecy", "公开" if i % 5 else "内部"),
                    customer=sp.get("customer", b if i % 3 else None),
                    box=f"BOX-{year}-{i % 4:02d}",
                    location=f"A库-{i % 3 + 1}架",
                    status=STATUSES[i % 2],
                    date=f"{year}-{(i % 12) + 1:02d}-{(i % 27) + 1:02d}",
                    owner_id=sp.get("owner_id", 1 + i % 3),
                    department=sp.get("department", DEPTS[i % 2]),
                    fingerprint=f"fp-{i}",
                )
            )
    return docs


def items(docs: list[PageDoc]) -> dict[int, PageDoc]:
    """First page of each item (item fields are the same on every page)."""
    out: dict[int, PageDoc] = {}
    for d in docs:
        out.setdefault(d.item_id, d)
    return out
