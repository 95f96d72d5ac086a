"""Layout at a common laptop width (1366×768) in real Chromium: numbers never wrap or clip.

The pages come from the Flask test client (signed in), handed to Chromium through
Playwright's request routing, so no server process is needed; screenshots go to
test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import pytest

from tests.browser import MARKS, shot

BASE = "http://dangan.test"

pytestmark = MARKS


@pytest.fixture(scope="module")
def item_id(archive):
    """An item with several originals of megabyte sizes and long names beside their hashes."""
    from sqlalchemy import select

    from service.models import StoredFile
    from tests.web.conftest import make_item

    item_id = make_item(archive, title="华东精密机械有限公司购销合同（二〇二四年度框架协议）",
                        text="甲方应于二〇二四年三月前支付合同款")
    with archive.session() as s:
        first = s.scalar(select(StoredFile).where(StoredFile.item_id == item_id))
        first.size = 12_345_678
        first.original_name = "华东精密机械有限公司购销合同-第1页-彩色扫描-300dpi-双面-含骑缝章.tif"
        for seq, size in ((2, 987_654_321), (3, 1_048_576)):
            s.add(StoredFile(item_id=item_id, role="original", seq=seq, key=first.key,
                             sha256=f"{seq:064x}", size=size, format="tiff", page_count=12,
                             original_name=f"华东精密机械有限公司购销合同-附件{seq}-盖章页扫描件-300dpi-彩色.tif"))
    return item_id


@pytest.fixture(scope="module")
def arc_client(app):
    """The archivist, signed in through the Flask test client that serves the pages."""
    from tests.web.conftest import login

    client = app.test_client()
    login(client, "arc")
    return client


@pytest.fixture
def browser_page(new_page, arc_client):
    page = new_page(viewport={"width": 1366, "height": 768}, locale=None)

    def handle(route, request):
        r = arc_client.open(request.url.removeprefix(BASE), method=request.method)
        route.fulfill(status=r.status_code, body=r.get_data(),
                      headers={"Content-Type": r.headers.get("Content-Type", "text/html")})

    page.context.route(f"{BASE}/**", handle)
    return page, arc_client


def _in_language(client, lang: str) -> None:
    from tests.web.conftest import csrf_token

    client.post("/lang", data={"lang": lang, "next": "/search",
                               "csrf_token": csrf_token(client, "/search")})


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_file_sizes_stay_on_one_line(browser_page, item_id, lang):
    page, client = browser_page
    _in_language(client, lang)
    page.goto(f"{BASE}/items/{item_id}")
    shot(page, f"layout-item-files-{lang}")
    cells = page.locator("table.files td.num").evaluate_all("""cells => cells.map(td => {
        const style = getComputedStyle(td);
        const range = document.createRange();
        range.selectNodeContents(td);
        return {text: td.textContent.trim(), lines: range.getClientRects().length,
                height: range.getBoundingClientRect().height,
                lineHeight: parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.6,
                overflow: td.scrollWidth > td.clientWidth};
    })""")
    sizes = [c for c in cells if c["text"].endswith("B")]
    assert len(sizes) == 3, cells
    for c in sizes:
        assert c["lines"] == 1 and c["height"] < 1.5 * c["lineHeight"], c
        assert not c["overflow"], c


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_year_filters_show_four_digits(browser_page, lang):
    page, client = browser_page
    _in_language(client, lang)
    page.goto(f"{BASE}/search?year_from=2026&year_to=2026")
    page.locator("details.filters").evaluate("d => d.open = true")
    shot(page, f"layout-search-filters-{lang}", full_page=False)
    for name in ("year_from", "year_to"):
        box = page.locator(f"input[name={name}]")
        assert box.input_value() == "2026"
        fit = box.evaluate("""el => {
            const s = getComputedStyle(el);
            const ctx = document.createElement("canvas").getContext("2d");
            ctx.font = s.font;
            return {scroll: el.scrollWidth, client: el.clientWidth, text: ctx.measureText(el.value).width,
                    room: el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight)};
        }""")
        # the four digits fit inside the padding, with room for the caret
        assert fit["scroll"] <= fit["client"] and fit["text"] + 2 <= fit["room"], (name, fit)
