"""Property-based fuzzing of every operation in the gateway's OpenAPI document
(schemathesis), against the running gateway: no 5xx, and every response has a
documented status, content type, headers and a body that matches its schema."""
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from requests.adapters import HTTPAdapter
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


class FromAddress(HTTPAdapter):
    """Connects from another loopback address: the fuzzer's many failed staff logins
    are throttled per client address, and the rest of the suite logs in from 127.0.0.1."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, source_address=("127.0.0.7", 0), **kwargs)


@pytest.fixture(scope="module")
def fuzzer():
    session = requests.Session()
    session.mount("http://", FromAddress())
    yield session
    session.close()


@pytest.fixture
def api_schema(stack):
    return schemathesis.openapi.from_url(f"{stack['base']}/api/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_within_its_contract(case, stack, fuzzer):
    case.call_and_validate(base_url=stack["base"], session=fuzzer, checks=CHECKS, timeout=30)
