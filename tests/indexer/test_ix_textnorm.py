from indexer.textnorm import is_cjk, normalize_text


def test_removes_spaces_between_cjk():
    assert normalize_text("甲 方 应 于 二 〇 二 四 年") == "甲方应于二〇二四年"


def test_removes_spaces_around_cjk_punctuation():
    assert normalize_text("合 同 ， 款 。 “ 零 遗 漏 、 易 查 询 ”") == "合同,款。“零遗漏、易查询”"


def test_keeps_single_spaces_in_latin():
    assert normalize_text("Contract   No.  HT-2024") == "Contract No. HT-2024"


def test_mixed_cjk_and_latin_joined():
    assert normalize_text("成为 VIP 会 员 后 1 次") == "成为VIP会员后1次"


def test_nfkc_folds_full_width():
    assert normalize_text("ＶＩＰ（２０２４）") == "VIP(2024)"


def test_lines_stripped_and_blank_runs_collapsed():
    raw = "  第一行  \n\n\n\n 第 二 行\n   \n\fEnd  \n\n"
    assert normalize_text(raw) == "第一行\n\n第二行\n\nEnd"


def test_empty_and_whitespace():
    assert normalize_text("") == ""
    assert normalize_text(" \n\t\n ") == ""


def test_is_cjk():
    assert is_cjk("甲") and is_cjk("〇")
    assert not is_cjk("a") and not is_cjk("，")
