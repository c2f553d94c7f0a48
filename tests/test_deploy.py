"""deploy/ as an operator uses it: compose.yaml parses and names files that exist, every address Rasa's production
endpoints need is in the env example and in compose, the units start commands that exist, nginx accepts the
routes (`nginx -t`, when nginx is installed). Nothing here starts the services (tests/scale does)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.config import GatewaySettings
from rasa_runtime import __main__ as rasa_main
from rasa_runtime.paths import ROOT
from tests.support.scale_stack import Ports, nginx_config

DEPLOY = ROOT / "deploy"
ENDPOINT_VARIABLES = set(re.findall(r"\$\{(\w+)\}", (ROOT / "endpoints.production.yml").read_text()))


def env_example() -> dict[str, str]:
    lines = (DEPLOY / "auskunft.env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return {key.strip(): value for key, value in pairs}


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_the_production_endpoints_take_every_address_from_the_environment() -> None:
    text = (ROOT / "endpoints.production.yml").read_text()
    assert "127.0.0.1" not in text.split("order_backend")[0].replace("# e.g. http://127.0.0.1", "")
    assert {"AUSKUNFT_ACTIONS_URL", "AUSKUNFT_PG_HOST", "AUSKUNFT_REDIS_HOST", "AUSKUNFT_RASA_LOCK_DB"} <= (
        ENDPOINT_VARIABLES
    )


def test_the_env_example_names_every_variable_and_no_real_secret() -> None:
    example = env_example()
    assert set(example) >= ENDPOINT_VARIABLES, ENDPOINT_VARIABLES - set(example)
    for secret in ("SECRET_KEY", "AUSKUNFT_RASA_TOKEN", "AUSKUNFT_ACTIONS_TOKEN", "AUSKUNFT_RELOAD_TOKEN"):
        assert example[secret].split("#")[0].strip() == "<random>"
    gateway_fields = {f"AUSKUNFT_{name.upper()}" for name in GatewaySettings.model_fields}
    assert {"AUSKUNFT_DATABASE_URL", "AUSKUNFT_REDIS_URL", "AUSKUNFT_PROXY_HOPS", "AUSKUNFT_RASA_URL"} <= (
        gateway_fields & set(example)
    )


def test_compose_runs_every_part_twice_with_the_addresses_rasa_needs() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "gateway-1", "gateway-2", "rasa-1", "rasa-2", "actions-1", "actions-2",
            "nginx"} == set(services)
    for name in ("gateway-1", "rasa-1", "actions-1", "migrate"):
        environment = services[name]["environment"]
        missing = ENDPOINT_VARIABLES - set(environment) - set(env_example())
        assert not missing, (name, missing)
        assert environment["AUSKUNFT_RASA_ENDPOINTS"] == "endpoints.production.yml"
    assert services["gateway-1"]["command"][1:4] == ["-m", "bot", "gateway"]
    assert services["rasa-2"]["command"][1:4] == ["-m", "rasa_runtime", "rasa"]
    assert services["gateway-1"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), source


@pytest.mark.parametrize("unit", sorted((DEPLOY / "systemd").glob("*.service")), ids=lambda p: p.name)
def test_each_unit_starts_a_command_of_the_project(unit: Path) -> None:
    text = unit.read_text()
    assert "EnvironmentFile=/etc/auskunft/auskunft.env" in text
    (start,) = re.findall(r"^ExecStart=(.*)$", text, re.MULTILINE)
    argv = start.replace("%i", "5005").split()
    if argv[1:3] == ["-m", "rasa_runtime"]:
        assert argv[3] in ("rasa", "actions")  # run for real in the test below
    elif argv[1:3] == ["-m", "bot"]:
        assert argv[3] == "gateway" and "--port" in argv
    else:
        assert argv[0].endswith("/flask") and argv[1:] == ["--app", "bot", "db", "upgrade"]


def test_rasa_runtime_rasa_replaces_itself_with_rasa_on_the_given_port(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(rasa_main.os, "execve", lambda path, argv, env: started.append(argv))
    monkeypatch.setenv("AUSKUNFT_RASA_ENDPOINTS", "endpoints.production.yml")
    rasa_main.main(["rasa", "--port", "5006", "--host", "0.0.0.0"])
    rasa_main.main(["actions", "--port", "5056"])
    rasa, actions = started
    assert rasa[rasa.index("-p") + 1] == "5006" and rasa[rasa.index("-i") + 1] == "0.0.0.0"
    assert rasa[rasa.index("--endpoints") + 1].endswith("endpoints.production.yml")
    assert actions[-2:] == ["-p", "5056"] and "actions.server" in actions


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_accepts_the_deployments_routes(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_config(tmp_path, Ports()))
    checked = subprocess.run(["nginx", "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    locations = (DEPLOY / "nginx" / "auskunft-locations.conf").read_text()
    sse = locations.split("/events$")[1].split("}")[0]
    assert "proxy_buffering off" in sse and "proxy_read_timeout 3600s" in sse
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in locations
