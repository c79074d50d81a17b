"""Property-based check of the whole API against its OpenAPI document: never a 5xx.

Every operation of the OpenAPI document gets a bounded number of generated requests
(schemathesis strategies driven by hypothesis, derandomised), sent as the administrator so
that they reach past authorisation into the services, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from apikit import Api
from hypothesis import HealthCheck, given, settings

EXAMPLES_PER_OPERATION = 10


def test_api_never_answers_5xx(api: Api) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    headers = api.headers("admin")
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} {case.query} {case.body!r}: "
                f"{response.status_code} {response.text[:500]}"
            )

        run()
        checked += 1
    assert checked >= 25  # every operation of the registry API was exercised
