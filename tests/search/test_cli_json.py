"""The fixed JSON of `dangan search --json` / the API, with its optional flags."""

from __future__ import annotations

from indexer.search.types import ItemHit, PageHit, SearchResult, to_cli_json


def _result(**flags: bool) -> SearchResult:
    hit = ItemHit(id=7, archival_code="J001-HT·2024-D30-0007", title="合同", score=1.5,
                  pages=[PageHit(page=2, snippet="<mark>合同</mark>", boxes=[], score=1.5)])
    return SearchResult(total=1, hits=[hit], facets={}, **flags)


def test_plain_result_has_exactly_the_contract_keys() -> None:
    out = to_cli_json(_result())
    assert set(out) == {"total", "hits"}
    assert {k: out["hits"][0][k] for k in ("id", "archival_code", "title", "page", "snippet")} == {
        "id": 7, "archival_code": "J001-HT·2024-D30-0007", "title": "合同", "page": 2,
        "snippet": "<mark>合同</mark>"}


def test_capped_and_fuzzy_results_say_so() -> None:
    out = to_cli_json(_result(total_is_exact=False, fuzzy=True))
    assert out["total_is_exact"] is False and out["fuzzy"] is True
