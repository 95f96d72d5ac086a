"""The OpenAPI 3 description of /api/v1."""

from __future__ import annotations


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
                "parameters": [
                    {"name": "q", "in": "query", "required": True, "schema": q},
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 10}},
                    {"name": "page", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "default": 1}}],
                "responses": {"200": {"description": "Hits", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/SearchResult"}}}}, **ERRORS}}},
            "/items": {"post": {
                "summary": "Register an item from uploaded scans (OCR runs in the background)",
                "requestBody": {"required": True, "content": {"multipart/form-data": {
                    "schema": {"$ref": "#/components/schemas/ItemUpload"}}}},
                "responses": {
                    "201": {"description": "Registered", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/IngestResult"}}}},
                    "200": {"description": "These files were already stored: the existing item"},
                    **ERRORS}}},
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
            "/codes/preview": {"get": {
                "summary": "The 档号 the next item of this group would get",
                "parameters": [{"name": n, "in": "query", "required": n != "org", "schema": q}
                               for n in ("fonds", "category", "year", "retention", "org")],
                "responses": {"200": {"description": "Code", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {"archival_code": q}}}}},
                    **ERRORS}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": q}, "required": ["error"]},
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
                        "files": {"type": "array",
                                  "items": {"type": "string", "format": "binary"}}}},
                "IngestResult": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "archival_code": q, "status": q,
                    "pages": {"type": "integer"}, "duplicate": {"type": "boolean"},
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
