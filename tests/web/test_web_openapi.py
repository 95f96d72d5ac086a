"""The OpenAPI description names every parameter `/api/v1/search` reads, and nothing else."""

from __future__ import annotations

from werkzeug.datastructures import ImmutableMultiDict


def _token(archive) -> str:
    from sqlalchemy import select

    from service.models import User
    from service.users import issue_token

    with archive.session() as s:
        return issue_token(s.scalar(select(User).where(User.username == "arc")))


def test_openapi_search_parameters_are_the_ones_the_api_reads(app, archive, monkeypatch):
    read: set[str] = set()

    class RecordingArgs(ImmutableMultiDict):
        """Query arguments that note every name the request handler looks up."""

        def get(self, key, default=None, type=None):  # type: ignore[no-untyped-def]  # noqa: A002
            read.add(key)
            return super().get(key, default, type)

        def getlist(self, key, type=None):  # type: ignore[no-untyped-def]  # noqa: A002
            read.add(key)
            return super().getlist(key, type)

        def __getitem__(self, key):
            read.add(key)
            return super().__getitem__(key)

        def __contains__(self, key) -> bool:
            read.add(key)
            return super().__contains__(key)

    class RecordingRequest(app.request_class):  # type: ignore[name-defined, misc]  # a base class known only at run time
        parameter_storage_class = RecordingArgs

    monkeypatch.setattr(app, "request_class", RecordingRequest)
    api = app.test_client()
    r = api.get("/api/v1/search?q=合同", headers={"Authorization": f"Bearer {_token(archive)}"})
    assert r.status_code == 200, r.get_data(as_text=True)
    spec = api.get("/api/v1/openapi.json").get_json()
    params = spec["paths"]["/search"]["get"]["parameters"]
    documented = {p["name"] for p in params}
    assert read == documented
    for p in params:
        assert p["in"] == "query" and p["description"] and p["schema"], p
