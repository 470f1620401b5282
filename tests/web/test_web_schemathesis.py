"""Schemathesis against the OpenAPI schema, logged in as a GP and as an admin: never a 5xx.

Bounded in time: a few generated cases per operation (the space that matters — injection
fragments, huge and malformed bodies — is covered by test_web_bad_input.py)."""

from __future__ import annotations

import pytest
import schemathesis
from web_client import Browser
from hypothesis import HealthCheck, given, settings

#: Generated cases per operation and account.
EXAMPLES = 12


@pytest.mark.slow
@pytest.mark.parametrize("username", ["gp", "admin"])
def test_no_operation_answers_a_server_error(app, username):
    b = Browser(app, username)
    cookie = "; ".join(f"{k}={v}" for k, v in b.client.cookies.items())
    headers = {"Cookie": cookie, "X-CSRF-Token": b.csrf}
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) >= 12
    failures, statuses = [], set()
    for op in operations:

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy())
        def check(case):
            response = case.call(headers=headers)
            statuses.add(response.status_code)
            if response.status_code >= 500:
                failures.append((case.method, case.formatted_path, case.query,
                                 response.status_code, response.text[:200]))

        check()
    assert failures == []
    assert 200 in statuses and 401 not in statuses  # the session held: real work was done
