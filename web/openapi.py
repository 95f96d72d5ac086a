"""The OpenAPI 3 description of /api/v1."""

from __future__ import annotations

from service.codes import RETENTIONS
from service.search import SEARCH_FILTERS, SORTS
from service.vocab import SECRECY_LEVELS, CheckResult, DiscrepancyKind

#: What each search filter selects. The filters themselves come from the one list
#: (service.search.SEARCH_FILTERS, from the engines' FILTER_KEYS), so a filter added there
#: without a description here fails the OpenAPI test instead of going undocumented.
FILTER_DESCRIPTIONS: dict[str, tuple[str, dict]] = {
    "fonds": ("全宗号 fonds code, e.g. `J001`", {"type": "string"}),
    "category": ("门类代码 category code, e.g. `HT`", {"type": "string"}),
    "year": ("One year (shorthand for `year_from` = `year_to`), e.g. `2024`",
             {"type": "integer", "minimum": 1900, "maximum": 2999}),
    "year_from": ("Items of this year or later", {"type": "integer", "minimum": 1900,
                                                  "maximum": 2999}),
    "year_to": ("Items of this year or earlier", {"type": "integer", "minimum": 1900,
                                                  "maximum": 2999}),
    "retention": ("保管期限 retention: `Y` permanent, `D30` 30 years, `D10` 10 years",
                  {"type": "string", "enum": list(RETENTIONS)}),
    "secrecy": ("密级 secrecy level", {"type": "string", "enum": list(SECRECY_LEVELS)}),
    "customer": ("Customer number, e.g. `KH-202405001`", {"type": "string"}),
    "box": ("Barcode of the box holding the paper original", {"type": "string"}),
    "location": ("Shelf path of the box, as shown in the `location` facet", {"type": "string"}),
    "status": ("Item status, e.g. `ready`, `processing`, `failed`", {"type": "string"}),
}
#: Display order of the filters in the description (FILTER_KEYS is a set).
_FILTER_ORDER = ("fonds", "category", "year", "year_from", "year_to", "retention", "secrecy",
                 "customer", "box", "location", "status")


def search_parameters() -> list[dict]:
    """Every query parameter `GET /search` accepts: words, paging, sort and each filter."""
    names = [n for n in _FILTER_ORDER if n in SEARCH_FILTERS]
    names += sorted(SEARCH_FILTERS - set(names))
    params = [
        {"name": "q", "in": "query", "schema": {"type": "string"},
         "description": "Search words: phrases, `\"quoted\"`, `OR`, `-exclude`; without them "
                        "the filters alone list the catalogue"},
        {"name": "limit", "in": "query", "description": "Hits per page",
         "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 10}},
        {"name": "page", "in": "query", "description": "Page of hits, from 1",
         "schema": {"type": "integer", "minimum": 1, "default": 1}},
        {"name": "sort", "in": "query", "description": "Order of the hits",
         "schema": {"type": "string", "enum": list(SORTS)}},
    ]
    for name in names:
        description, schema = FILTER_DESCRIPTIONS[name]
        params.append({"name": name, "in": "query", "description": description,
                       "schema": schema})
    return params


def _err(desc: str) -> dict:
    return {"description": desc, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}}


ERRORS = {"400": _err("Invalid input"), "401": _err("Missing or invalid token"),
          "403": _err("Not permitted"), "404": _err("Not found"), "409": _err("Conflict")}


def spec(server: str = "") -> dict:
    item_id = {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    q = {"type": "string"}
    return {
        "openapi": "3.0.3",
        "info": {"title": "dangan 档案系统 API", "version": "1.0",
                 "description": "Search, read and register archive items. Authenticate with "
                                "`Authorization: Bearer <token>` (create a token on the 账户 / "
                                "API token page). Errors are JSON `{\"error\": message}`."},
        "servers": [{"url": f"{server}/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/search": {"get": {
                "summary": "Full-text search (same JSON as `dangan search --json`)",
                "parameters": search_parameters(),
                "responses": {"200": {"description": "Hits", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/SearchResult"}}}}, **ERRORS}}},
            "/items": {"post": {
                "summary": "Register an item from uploaded scans (OCR runs in the background)",
                "requestBody": {"required": True, "content": {"multipart/form-data": {
                    "schema": {"$ref": "#/components/schemas/ItemUpload"}}}},
                "responses": {
                    "201": {"description": "Registered", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/IngestResult"}}}},
                    **ERRORS,
                    "403": _err("The uploader may not register this 密级 (they could not open "
                                "the item afterwards)"),
                    "409": _err("Some files are already stored: `duplicate` is true and "
                                "`existing` lists each such file, with the item's `id`, "
                                "`archival_code` and `title` only where the uploader may open "
                                "it. Nothing is registered."),
                    "413": _err("The upload is larger than DANGAN_MAX_UPLOAD_BYTES")}}},
            "/items/{item_id}": {"get": {
                "summary": "An item: catalogue fields, location, files, page texts",
                "parameters": [item_id],
                "responses": {"200": {"description": "Item", "content": {"application/json": {
                    "schema": {"type": "object"}}}}, **ERRORS}}},
            "/items/{item_id}/progress": {"get": {
                "summary": "OCR progress of an item",
                "parameters": [item_id],
                "responses": {"200": {"description": "Progress", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Progress"}}}},
                    **ERRORS}}},
            "/checks/queue": {"get": {
                "summary": "Items waiting for a records officer's cross-check: never checked, "
                           "changed since their last check, or with an open discrepancy",
                "parameters": [{"name": n, "in": "query", "required": False, "schema": q}
                               for n in ("box", "fonds", "year", "category")],
                "responses": {"200": {"description": "Queue", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {"items": {
                        "type": "array", "items": {"type": "object"}}}}}}}, **ERRORS}}},
            "/items/{item_id}/checks": {
                "get": {
                    "summary": "The item's signed cross-checks, newest first",
                    "parameters": [item_id],
                    "responses": {"200": {"description": "Checks", "content": {
                        "application/json": {"schema": {"type": "object", "properties": {
                            "checks": {"type": "array", "items": {
                                "$ref": "#/components/schemas/Check"}}}}}}}, **ERRORS}},
                "post": {
                    "summary": "Sign a cross-check of paper against scans (records officers)",
                    "parameters": [item_id],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/CheckRequest"}}}},
                    "responses": {"201": {"description": "Signed", "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Check"}}}},
                        **ERRORS}}},
            "/codes/preview": {"get": {
                "summary": "The 档号 group a registration would go into; the 件号 is shown as "
                           "NNNN because it is allocated at registration (the next number "
                           "would reveal how many items, visible or not, the group holds)",
                "parameters": [{"name": n, "in": "query", "required": n != "org", "schema": q}
                               for n in ("fonds", "category", "year", "retention", "org")],
                "responses": {"200": {"description": "Code", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {"archival_code": q}}}}},
                    **ERRORS}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "properties": {
                    "error": q, "duplicate": {"type": "boolean"},
                    "existing": {"type": "array", "items": {"type": "object", "properties": {
                        "name": q, "id": {"type": "integer"}, "archival_code": q, "title": q}}},
                    "failed_files": {"type": "array", "items": {"type": "object", "properties": {
                        "name": q, "code": q, "reason": q}}}}, "required": ["error"]},
                "Finding": {"type": "object", "properties": {
                    "kind": {"type": "string", "enum": list(DiscrepancyKind)},
                    "pages": {"type": "array", "items": {"type": "integer"}}, "note": q},
                    "required": ["kind"]},
                "CheckRequest": {"type": "object", "properties": {
                    "result": {"type": "string", "enum": list(CheckResult)}, "note": q,
                    "findings": {"type": "array", "items": {"$ref": "#/components/schemas/Finding"}}},
                    "required": ["result"]},
                "Check": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "item_id": {"type": "integer"},
                    "result": q, "officer": q, "officer_name": q, "checked_at": q,
                    "paper_pages": {"type": "integer", "nullable": True},
                    "scanned_pages": {"type": "integer"}, "note": q,
                    "findings": {"type": "array", "items": {"$ref": "#/components/schemas/Finding"}}}},
                "PageHit": {"type": "object", "properties": {
                    "page": {"type": "integer"}, "snippet": q, "score": {"type": "number"},
                    "boxes": {"type": "array", "items": {"type": "object", "properties": {
                        k: {"type": "integer"} for k in ("x", "y", "w", "h")}}}}},
                "SearchResult": {"type": "object", "properties": {
                    "total": {"type": "integer"},
                    "hits": {"type": "array", "items": {"type": "object", "properties": {
                        "id": {"type": "integer"}, "archival_code": q, "title": q,
                        "page": {"type": "integer", "nullable": True}, "snippet": q,
                        "score": {"type": "number"},
                        "pages": {"type": "array",
                                  "items": {"$ref": "#/components/schemas/PageHit"}}}}}}},
                "ItemUpload": {"type": "object", "required": [
                    "category", "year", "retention", "secrecy", "title", "files"],
                    "properties": {
                        "fonds": {"type": "string", "default": "J001"}, "category": q,
                        "year": {"type": "integer"},
                        "retention": {"type": "string", "enum": ["Y", "D30", "D10"]},
                        "secrecy": {"type": "string",
                                    "enum": ["公开", "内部", "秘密", "机密", "绝密"]},
                        "title": q, "org": q, "customer": q,
                        "customer_section": {"type": "string", "enum": [
                            "basic", "contract", "payment", "complaint", "correspondence"]},
                        "box": q, "doc_number": q, "responsible": q,
                        "doc_date": {"type": "string", "format": "date"},
                        "paper_pages": {"type": "integer"}, "remarks": q,
                        "id_copies": {"type": "string", "enum": ["是", "否"],
                                      "description": "holds ID copies (身份证复印件): only "
                                                     "users with the privacy right open it"},
                        "files": {"type": "array",
                                  "items": {"type": "string", "format": "binary"}}}},
                "IngestResult": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "archival_code": q, "status": q,
                    "pages": {"type": "integer"},
                    "failed_files": {"type": "array", "items": {"type": "object", "properties": {
                        "name": q, "code": q, "reason": q}}}}},
                "Progress": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "archival_code": q, "title": q, "status": q,
                    "pages": {"type": "integer"}, "pages_done": {"type": "integer"},
                    "pages_total": {"type": "integer"}, "pages_failed": {"type": "integer"},
                    "failed_files": {"type": "array", "items": {"type": "object"}},
                    "failed_pages": {"type": "array", "items": {"type": "object"}}}},
            },
        },
    }
