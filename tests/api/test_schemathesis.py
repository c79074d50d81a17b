"""Property-based check of the whole API against its OpenAPI document: never a 5xx.

Every operation of the OpenAPI document gets a bounded number of generated requests
(schemathesis strategies driven by hypothesis with a fixed seed), sent as the platform
administrator and as a cluster manager, so that they reach past authorisation into the
services, on SQLite and on PostgreSQL. Each answer must not be a server error and must
match the document: the response schema of its status (error bodies included, described
by ``ErrorOut``) and its declared content type. Failures of every operation are collected
before the test fails, so one run lists them all.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from apikit import Api
from hypothesis import HealthCheck, given, seed, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

SEED = 20_261_203
#: Examples per operation and role: with ~30 operations and two roles, about a minute per
#: backend on the 2-core machine of the project.
EXAMPLES_PER_OPERATION = 10
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
#: Operations whose generated requests would end the role's own session: revoking tokens
#: (the administrator's is among the first ids) is checked last, once everything else ran.
LAST = "DELETE /tokens/{token_id}"


def _label(operation: Any) -> str:
    return f"{operation.method.upper()} {operation.path}"


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_whole_api_never_answers_5xx_and_follows_its_document(api: Api, role: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    headers = api.headers(role)
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()), key=lambda op: _label(op) == LAST
    )
    failures: list[str] = []
    started = time.monotonic()
    for operation in operations:

        @given(case=operation.as_strategy())
        @seed(SEED)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call(headers=headers)
            try:
                case.validate_response(response, checks=CHECKS)
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup included
                raise AssertionError(
                    f"{case.method} {case.formatted_path} query={case.query} body={case.body!r}: "
                    f"{response.status_code} {response.text[:300]} — {str(exc)[:600]}"
                ) from exc

        try:
            run()
        except AssertionError as exc:
            failures.append(f"{_label(operation)}: {exc}")
    elapsed = time.monotonic() - started
    assert len(operations) >= 28, [_label(op) for op in operations]  # the whole document
    assert not failures, "\n".join(failures)
    assert elapsed < 300  # bounded: a runaway generator fails here, not in CI's timeout
