"""docker-compose.yml, deploy/Caddyfile and the docs agree with the code: every
gateway is behind the proxy and reachable by the action server, every gateway
has a Rasa server, every command exists, every variable is documented.
(This machine can't run Docker Compose; make test-scale runs the same topology.)"""
import re

import yaml

from tests.conftest import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
GATEWAYS = sorted(name for name in SERVICES if name.startswith("gateway-"))
RASA = sorted(name for name in SERVICES if name.startswith("rasa-"))


def test_there_are_replicas_of_the_gateway_and_of_rasa():
    assert len(GATEWAYS) >= 2 and len(RASA) >= 2


def test_the_proxy_balances_over_every_gateway_and_nothing_else_is_published():
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert set(re.findall(r"(gateway-\d+):8080", caddyfile)) == set(GATEWAYS)
    assert "8081" not in re.sub(r"#.*", "", caddyfile)  # the internal API is never proxied
    published = [name for name, service in SERVICES.items() if service.get("ports")]
    assert published == ["proxy"]


def test_the_proxy_gives_every_gateway_the_client_address_for_staff_logins_only():
    """The login throttle counts per client address: behind the proxy that must be
    the client's, not the proxy's (one attacker would keep every worker out), and
    the proxy sets it on the login alone, over anything the client sent."""
    caddyfile = re.sub(r"#.*", "", (ROOT / "deploy" / "Caddyfile").read_text())
    headers = {SERVICES[name]["environment"]["STAFF_LOGIN_ADDRESS_HEADER"] for name in GATEWAYS}
    assert len(headers) == 1
    header = headers.pop()
    assert re.findall(r"request_header\s+(\S+)\s+" + re.escape(header) + r"\s+\{remote_host\}",
                      caddyfile) == ["/staff/api/login"]
    assert caddyfile.count(header) == 1


def test_the_action_server_can_reach_every_gateway():
    urls = SERVICES["actions"]["environment"]["GATEWAY_INTERNAL_URL"].split(",")
    assert sorted(re.match(r"http://(gateway-\d+):8081$", url).group(1) for url in urls) == GATEWAYS


def test_each_gateway_has_a_rasa_server_and_the_shared_stores():
    used = set()
    for name in GATEWAYS:
        environment = SERVICES[name]["environment"]
        used.add(re.match(r"http://(rasa-\d+):5005$", environment["RASA_URL"]).group(1))
        assert environment["DATABASE_URL"].startswith("postgresql://")
        assert environment["REDIS_URL"].startswith("redis://")
        assert environment["GATEWAY_INTERNAL_HOST"] == "0.0.0.0"
    assert used == set(RASA)
    for name in RASA:
        assert SERVICES[name]["command"] == ["python", "-m", "channels.serve"]
        assert SERVICES[name]["environment"]["DATABASE_URL"].startswith("postgresql://")


def test_every_command_runs_code_that_is_here():
    for service in SERVICES.values():
        command = service.get("command") or []
        if command[:2] == ["python", "-m"]:
            module = ROOT.joinpath(*command[2].split("."))
            assert module.with_suffix(".py").exists() or (module / "__main__.py").exists(), command
        if command[:3] == ["rasa", "run", "actions"]:
            assert (ROOT / command[command.index("--actions") + 1]).is_dir()


def test_every_variable_the_deployment_needs_is_documented():
    documented = (ROOT / ".env.example").read_text() + (ROOT / "docs" / "deploy.md").read_text()
    text = (ROOT / "docker-compose.yml").read_text()
    needed = set(re.findall(r"\$\{([A-Z_]+)", text))
    needed |= {key for service in SERVICES.values()
               for key in (service.get("environment") or {})
               if not key.startswith("POSTGRES_")}  # the postgres image's own
    assert needed and not [name for name in needed if name not in documented]


def test_secrets_never_have_a_default_in_the_compose_file():
    text = (ROOT / "docker-compose.yml").read_text()
    for name in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "SITE_ADDRESS", "ACTION_SERVER_TOKEN"):
        assert re.findall(r"\$\{" + name + r"(:[?-][^}]*)?\}", text)
        assert "${" + name + ":-" not in text and "${" + name + "-" not in text


def test_every_service_is_started_again_after_a_crash():
    # The same promise as `make run`'s supervisor (docs/deploy.md, "When a part fails").
    restart = {name: service.get("restart") for name, service in SERVICES.items()}
    assert restart == dict.fromkeys(SERVICES, "unless-stopped")


def test_the_action_server_takes_calls_only_from_rasa_with_the_shared_secret():
    """Every Rasa server sends ACTION_SERVER_TOKEN (endpoints*.yml) and the action
    server, our guarded rasa_sdk server, requires the same one; compose refuses to
    start without it."""
    actions = SERVICES["actions"]
    assert actions["command"] == ["python", "-m", "actions.serve"]
    needed = "${ACTION_SERVER_TOKEN:?set in .env}"
    assert actions["environment"]["ACTION_SERVER_TOKEN"] == needed
    for name in RASA:
        environment = SERVICES[name]["environment"]
        assert environment["ACTION_SERVER_TOKEN"] == needed
        assert environment["ACTION_SERVER_URL"] == "http://actions:5055/webhook"
    for endpoints in ("endpoints.yml", "endpoints.replicas.yml"):
        action_endpoint = yaml.safe_load((ROOT / endpoints).read_text())["action_endpoint"]
        assert action_endpoint["headers"] == {"Authorization": "Bearer ${ACTION_SERVER_TOKEN}"}
