"""Every list the API answers has one shape: ``{"total": n, "items": [...]}`` with limit/offset."""

from __future__ import annotations

from typing import Any

from apikit import Api, issue_fee_calls

from grappe.api.app import create_app


def _schema(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A response schema with its ``$ref`` resolved."""
    ref = schema.get("$ref")
    if ref is None:
        return schema
    name = ref.rsplit("/", 1)[-1]
    return document["components"]["schemas"][name]  # type: ignore[no-any-return]


def _list_routes() -> dict[str, tuple[dict[str, Any], list[str]]]:
    """GET routes answering JSON: path -> (their 200 answer's schema, their query parameters)."""
    document = create_app().openapi()
    routes = {}
    for path, operations in document["paths"].items():
        get = operations.get("get")
        if get is None:
            continue
        content = get["responses"].get("200", {}).get("content", {})
        if "application/json" not in content:
            continue
        schema = _schema(document, content["application/json"].get("schema", {}))
        params = [p["name"] for p in get.get("parameters", []) if p["in"] == "query"]
        routes[path] = (schema, params)
    return routes


def test_no_route_answers_a_bare_array() -> None:
    bare = [path for path, (schema, _) in _list_routes().items() if schema.get("type") == "array"]
    assert bare == []


def test_every_page_has_total_items_limit_and_offset() -> None:
    pages = {path: s for path, s in _list_routes().items() if "items" in s[0].get("properties", {})}
    assert {"/clusters", "/clusters/{cluster_id}/fee-calls", "/audit", "/clusters/{cluster_id}/dunning",
            "/clusters/{cluster_id}/directory", "/clusters/{cluster_id}/prospects"} <= set(pages)
    for path, (schema, params) in pages.items():
        assert set(schema["required"]) >= {"total", "items"}, path
        assert {"limit", "offset"} <= set(params), path


def test_fee_calls_are_paged_with_their_total(api: Api) -> None:
    h = api.headers("manager")
    a = api.world.a  # type: ignore[attr-defined]
    whole = issue_fee_calls(api, h, "120")
    assert whole["total"] == len(whole["items"]) >= 1
    past = api.client.get(f"/clusters/{a}/fee-calls", headers=h, params={"offset": whole["total"]}).json()
    assert past == {"total": whole["total"], "items": []}


def test_clusters_and_audit_are_paged(api: Api) -> None:
    admin = api.headers("admin")
    first = api.client.get("/clusters", headers=admin, params={"limit": 1}).json()
    second = api.client.get("/clusters", headers=admin, params={"limit": 1, "offset": 1}).json()
    assert first["total"] == second["total"] == 2
    assert len(first["items"]) == len(second["items"]) == 1
    assert first["items"][0]["id"] != second["items"][0]["id"]
    audit = api.client.get("/audit", headers=admin, params={"limit": 2}).json()
    assert len(audit["items"]) == 2 < audit["total"]
    ids = [e["id"] for e in audit["items"]]
    assert ids == sorted(ids, reverse=True)  # newest first
    assert api.client.get("/audit", headers=admin, params={"limit": 501}).status_code == 422
