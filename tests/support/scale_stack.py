"""The deployment of deploy/ on one machine: nginx in front of two gateways, two Rasa processes sharing the
PostgreSQL tracker store and the Redis lock store, two action servers behind nginx (tests/scale, the benchmark).

The nginx routes are deploy/nginx/auskunft-locations.conf itself; only the surrounding config (upstreams with
this machine's ports, pid/log/temp paths in the work folder) is rendered here. Each process leads its own process
group, and only those groups are signalled: other stacks on the machine are never touched.

Ports: `AUSKUNFT_SCALE_PORTS` = nginx,gateway1,gateway2,rasa1,rasa2,actions1,actions2,actions-upstream,rasa-upstream
(default 8700,8701,8702,5705,5706,5755,5756,6700,6701). Databases: `auskunft_scale_test` (gateways) and
`auskunft_scale_trackers` (Rasa) on `AUSKUNFT_SCALE_PG` (postgres@127.0.0.1:5432), dropped and created afresh;
Redis db 8 (gateways, flushed) and db 7 (Rasa's locks, never flushed).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis
from sqlalchemy import Engine, create_engine, text

from common.child_processes import die_with_parent, require_free
from rasa_runtime.paths import ROOT
from rasa_runtime.processes import Services
from rasa_runtime.processes import Settings as RasaSettings
from tests.support import channels

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
LOCATIONS = ROOT / "deploy" / "nginx" / "auskunft-locations.conf"
PG_SERVER = os.environ.get("AUSKUNFT_SCALE_PG", "postgresql://postgres@127.0.0.1:5432")
GATEWAY_DB = "auskunft_scale_test"
TRACKER_DB = "auskunft_scale_trackers"
REDIS_URL = "redis://127.0.0.1:6379/8"
RASA_LOCK_DB = "7"
START_LIMIT = 420.0


@dataclass(frozen=True)
class Ports:
    nginx: int = 8700
    gateways: tuple[int, ...] = (8701, 8702)
    rasa: tuple[int, ...] = (5705, 5706)
    actions: tuple[int, ...] = (5755, 5756)
    actions_upstream: int = 6700
    rasa_upstream: int = 6701

    @classmethod
    def from_env(cls) -> Ports:
        given = os.environ.get("AUSKUNFT_SCALE_PORTS")
        if not given:
            return cls()
        n, g1, g2, r1, r2, a1, a2, au, ru = (int(p) for p in given.split(","))
        return cls(n, (g1, g2), (r1, r2), (a1, a2), au, ru)


def nginx_config(work: Path, ports: Ports) -> str:
    """An nginx.conf for an unprivileged run in `work`, with the deployment's routes included."""
    def servers(port_list: tuple[int, ...]) -> str:
        return "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in port_list)

    user = "user root;\n" if os.geteuid() == 0 else ""  # as root nginx drops to nobody, who cannot read `work`
    return f"""{user}worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 2048; }}
http {{
    access_log off;
    client_body_temp_path {work}/client_body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    types {{ application/javascript js; text/css css; text/html html; }}
    upstream auskunft_gateways {{
{servers(ports.gateways)}
        keepalive 16;
    }}
    upstream auskunft_actions {{
{servers(ports.actions)}
    }}
    upstream auskunft_rasa {{
{servers(ports.rasa)}
    }}
    server {{
        listen 127.0.0.1:{ports.nginx};
        set $auskunft_widget_dir {ROOT / 'web_widget'};
        include {LOCATIONS};
    }}
    server {{
        listen 127.0.0.1:{ports.actions_upstream};
        location / {{ proxy_pass http://auskunft_actions; proxy_read_timeout 120s; proxy_next_upstream error timeout; }}
    }}
    server {{
        listen 127.0.0.1:{ports.rasa_upstream};
        location / {{ proxy_pass http://auskunft_rasa; proxy_read_timeout 120s; proxy_next_upstream error timeout; }}
    }}
}}
"""


def gateway_engine(database: str = GATEWAY_DB) -> Engine:
    """SQLAlchemy with the gateway's driver (psycopg 3) on one of the server's databases."""
    return create_engine(f"postgresql+psycopg://{PG_SERVER.removeprefix('postgresql://')}/{database}")


def fresh_databases() -> None:
    """Drop and create the scale test's two PostgreSQL databases (only those: `auskunft_scale*`)."""
    engine = gateway_engine("postgres")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for name in (GATEWAY_DB, TRACKER_DB):
            assert name.startswith("auskunft_scale")
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    redis.Redis.from_url(REDIS_URL).flushdb()


def shared_env(work: Path, ports: Ports) -> dict[str, str]:
    """What every process of the stack reads: the production endpoints file and the shared stores."""
    server = PG_SERVER.removeprefix("postgresql://")
    user, _, host_port = server.partition("@")
    host, _, port = host_port.partition(":")
    return {
        "AUSKUNFT_RASA_ENDPOINTS": "endpoints.production.yml",
        "AUSKUNFT_PG_HOST": host,
        "AUSKUNFT_PG_PORT": port or "5432",
        "AUSKUNFT_PG_DB": TRACKER_DB,
        "AUSKUNFT_PG_USER": user,
        "AUSKUNFT_PG_PASSWORD": "",
        "AUSKUNFT_REDIS_HOST": "127.0.0.1",
        "AUSKUNFT_REDIS_PORT": "6379",
        "AUSKUNFT_REDIS_PASSWORD": "",
        "AUSKUNFT_RASA_LOCK_DB": RASA_LOCK_DB,
        "AUSKUNFT_ACTIONS_URL": f"http://127.0.0.1:{ports.actions_upstream}",
        "AUSKUNFT_RASA_URL": f"http://127.0.0.1:{ports.rasa_upstream}",
        "AUSKUNFT_FEEDBACK_DB": str(work / "feedback.db"),
        "AUSKUNFT_ORDERS_DB": str(work / "orders.db"),
        "AUSKUNFT_ORDER_API_URL": "",
        "AUSKUNFT_USE_TRAINED_MODEL": "false",
        "AUSKUNFT_KB_WATCH": "false",
        "AUSKUNFT_RASA_TRACKER_STORE_URL": f"postgresql+psycopg://{user}@{host_port}/{TRACKER_DB}",
    }


def gateway_env(work: Path, ports: Ports, graph_url: str, twilio_url: str, workers: int = 1) -> dict[str, str]:
    return {
        "AUSKUNFT_DATABASE_URL": f"postgresql+psycopg://{PG_SERVER.removeprefix('postgresql://')}/{GATEWAY_DB}",
        "AUSKUNFT_REDIS_URL": REDIS_URL,
        "AUSKUNFT_PROXY_HOPS": "1",
        "AUSKUNFT_RATELIMIT_ENABLED": "false",  # 50 customers from 127.0.0.1
        "AUSKUNFT_GATEWAY_WORKERS": str(workers),
        "AUSKUNFT_BUSINESS_HOURS": "mo-so 00:00-24:00",
        "AUSKUNFT_MESSENGER_APP_SECRET": channels.APP_SECRET,
        "AUSKUNFT_MESSENGER_PAGE_TOKEN": channels.PAGE_TOKEN,
        "AUSKUNFT_MESSENGER_VERIFY_TOKEN": channels.VERIFY_TOKEN,
        "AUSKUNFT_GRAPH_API_URL": graph_url,
        "AUSKUNFT_TWILIO_ACCOUNT_SID": channels.ACCOUNT_SID,
        "AUSKUNFT_TWILIO_AUTH_TOKEN": channels.AUTH_TOKEN,
        "AUSKUNFT_TWILIO_FROM_NUMBER": channels.FROM_NUMBER,
        "AUSKUNFT_TWILIO_API_URL": twilio_url,
        "AUSKUNFT_PUBLIC_URL": channels.PUBLIC_URL,
        "AUSKUNFT_SECURE_COOKIES": "false",
        "SECRET_KEY": "scale-test-secret",
    }


def answering(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status < 500)
    except urllib.error.HTTPError as error:
        return error.code < 500
    except OSError:
        return False


@dataclass
class ScaleStack:
    work: Path
    ports: Ports = field(default_factory=Ports.from_env)
    graph_url: str = "http://127.0.0.1:9"
    twilio_url: str = "http://127.0.0.1:9"
    rasa_count: int = 2
    gateway_count: int = 2
    gateway_workers: int = 1
    gateway_overrides: dict[str, str] = field(default_factory=dict)
    """More environment for the gateways (the benchmark points them at one Rasa directly)."""
    services: list[Services] = field(default_factory=list)
    gateways: list[subprocess.Popen[bytes]] = field(default_factory=list)
    nginx: subprocess.Popen[bytes] | None = None
    started_in: dict[str, float] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports.nginx}"

    def gateway_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports.gateways[index]}"

    def _popen(self, command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True, preexec_fn=die_with_parent())

    def start(self) -> None:
        """Stores, action servers and Rasa, then the gateways one after another (the first migrates), nginx."""
        started = time.monotonic()
        ports = self.ports
        require_free({
            "nginx": ports.nginx, "actions upstream": ports.actions_upstream, "Rasa upstream": ports.rasa_upstream,
            **{f"gateway {i + 1}": p for i, p in enumerate(ports.gateways[: self.gateway_count])},
            **{f"Rasa {i + 1}": p for i, p in enumerate(ports.rasa[: self.rasa_count])},
            **{f"actions {i + 1}": p for i, p in enumerate(ports.actions[: self.rasa_count])},
        })
        fresh_databases()
        env = shared_env(self.work, ports)
        for index in range(self.rasa_count):
            settings = RasaSettings(
                rasa_port=ports.rasa[index], actions_port=ports.actions[index],
                endpoints=ROOT / env["AUSKUNFT_RASA_ENDPOINTS"], log_dir=self.work / f"rasa-{index + 1}", extra_env=env,
            )
            services = Services(settings)
            self.services.append(services)
            services.start_actions()
            services.start_rasa()
        self._start_nginx()
        for services in self.services:
            services.wait_until_ready(START_LIMIT)
        self.started_in["rasa"] = time.monotonic() - started
        self.migrate()
        for index in range(self.gateway_count):
            self.start_gateway(index)
        self.started_in["all"] = time.monotonic() - started

    def _start_nginx(self) -> None:
        folder = self.work / "nginx"
        folder.mkdir(parents=True, exist_ok=True)
        conf = folder / "nginx.conf"
        conf.write_text(nginx_config(folder, self.ports))
        checked = subprocess.run([NGINX, "-t", "-q", "-c", str(conf), "-p", str(folder)], capture_output=True)
        if checked.returncode:
            raise RuntimeError(f"nginx -t: {checked.stderr.decode()}")
        self.nginx = self._popen([NGINX, "-c", str(conf), "-p", str(folder), "-g", "daemon off;"], dict(os.environ),
                                 folder / "nginx.out")

    def gateway_environment(self) -> dict[str, str]:
        return {**os.environ, **shared_env(self.work, self.ports),
                **gateway_env(self.work, self.ports, self.graph_url, self.twilio_url, self.gateway_workers),
                **self.gateway_overrides}

    def migrate(self) -> None:
        """The deploy step before any gateway (deploy/systemd/auskunft-migrate.service): a gateway refuses a schema
        behind its code."""
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "bot", "db", "upgrade"], cwd=ROOT,
                              env=self.gateway_environment(), capture_output=True, text=True, timeout=600)
        if done.returncode:
            raise RuntimeError(f"flask --app bot db upgrade failed: {done.stderr[-2000:]}")

    def start_gateway(self, index: int) -> None:
        env = {**self.gateway_environment(), "AUSKUNFT_LOG_DIR": str(self.work / f"gateway-{index + 1}")}
        port = self.ports.gateways[index]
        process = self._popen([sys.executable, "-m", "bot", "gateway", "--port", str(port)], env,
                              self.work / f"gateway-{index + 1}.out")
        if index < len(self.gateways):
            self.gateways[index] = process
        else:
            self.gateways.append(process)
        deadline = time.monotonic() + 120
        while not answering(f"http://127.0.0.1:{port}/"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gateway {index + 1} did not start; see {self.work}/gateway-{index + 1}.out")
            time.sleep(0.3)

    def restart_gateway(self, index: int) -> None:
        """Stop one gateway (SIGTERM to its group, gunicorn finishes requests) and start it with the current
        `gateway_workers` and `gateway_overrides`."""
        process = self.gateways[index]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        self.start_gateway(index)

    def kill(self, what: str, index: int = 0) -> None:
        """`kill -9` of one gateway (its gunicorn group), one Rasa or one action server."""
        process = self.gateways[index] if what == "gateway" else getattr(self.services[index], what)
        assert process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        """SIGTERM to each of our process groups, SIGKILL to what is left after 15 s; nothing else."""
        groups = [p for p in [self.nginx, *self.gateways] if p is not None]
        for services in self.services:
            groups += [p for p in (services.rasa, services.actions) if p is not None]
        for process in groups:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in groups:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # the group's leftovers (gunicorn workers) too
            process.wait()


@contextmanager
def running(work: Path, **options: object) -> Iterator[ScaleStack]:
    stack = ScaleStack(work, **options)  # type: ignore[arg-type]
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
