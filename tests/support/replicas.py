"""The system as a national service runs it: several Rasa servers and gateways,
one action server, on PostgreSQL and Redis (docs/deploy.md). Gateway i talks to
Rasa server i (mod the count), as behind a load balancer."""
import time
from typing import Any, Dict, List

from scripts.run_stack import child_environment, commands
from tests.conftest import CHANNEL_ID_KEY, INTERNAL_TOKEN, MODEL, POLICE, STACK_TOKEN
from tests.support.processes import Process, call, free_port


class Replicas:
    def __init__(self, database_url: str, redis_url: str, rasa_servers: int = 2,
                 gateways: int = 2, **settings: str) -> None:
        self.processes: List[Process] = []
        action_port = free_port()
        config = {"rasa_port": "0", "action_port": str(action_port), "token": STACK_TOKEN,
                  "action_url": f"http://127.0.0.1:{action_port}/webhook", "model": str(MODEL),
                  "log_level": "INFO"}
        base_env = {**child_environment(config), **POLICE, "DATABASE_URL": database_url,
                    "REDIS_URL": redis_url, "CHANNEL_ID_KEY": CHANNEL_ID_KEY,
                    "GATEWAY_INTERNAL_TOKEN": INTERNAL_TOKEN, **settings}
        self.env = base_env
        self.gateways: List[Dict[str, Any]] = []
        for _ in range(gateways):
            port, internal = free_port(), free_port()
            self.gateways.append({"base": f"http://127.0.0.1:{port}", "GATEWAY_PORT": str(port),
                                  "GATEWAY_INTERNAL_PORT": str(internal),
                                  "internal": f"http://127.0.0.1:{internal}"})
        self.rasa_ports = [str(free_port()) for _ in range(rasa_servers)]
        try:
            # The action server may reach any gateway: the last is tried first, so that
            # handoffs are not always queued by the first.
            actions_env = {**base_env, "GATEWAY_INTERNAL_URL": ",".join(
                g["internal"] for g in reversed(self.gateways))}
            self.actions = self._start(commands(config)["action server"], actions_env)
            rasa = [self._start(commands(config)["rasa"], {**base_env, "RASA_PORT": port})
                    for port in self.rasa_ports]
            for process, port in zip(rasa, self.rasa_ports):  # loaded side by side
                process.wait_until(f"http://127.0.0.1:{port}/status?token={STACK_TOKEN}", timeout=400)
            self.rasa = rasa
            for index in range(len(self.gateways)):
                self.start_gateway(index)
        except Exception:
            self.stop()
            raise

    def _start(self, command, env: Dict[str, str]) -> Process:
        process = Process(command, env)
        self.processes.append(process)
        return process

    def gateway_env(self, index: int) -> Dict[str, str]:
        gateway = self.gateways[index]
        rasa_port = self.rasa_ports[index % len(self.rasa_ports)]
        return {**self.env, "GATEWAY_PORT": gateway["GATEWAY_PORT"],
                "GATEWAY_INTERNAL_PORT": gateway["GATEWAY_INTERNAL_PORT"],
                "RASA_URL": f"http://127.0.0.1:{rasa_port}",
                "ACTIONS_URL": f"http://127.0.0.1:{self.env['ACTION_SERVER_PORT']}"}

    def start_gateway(self, index: int) -> None:
        gateway = self.gateways[index]
        gateway["process"] = self._start([str(MODEL.parent.parent / ".venv" / "bin" / "python"),
                                          "-m", "bot"], self.gateway_env(index))
        gateway["process"].wait_until(f"{gateway['base']}/api/health", timeout=120)

    def base(self, index: int) -> str:
        return self.gateways[index % len(self.gateways)]["base"]

    def output(self) -> str:
        return "\n".join(process.output()[-3000:] for process in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            try:
                process.stop()
            except (OSError, ProcessLookupError):
                pass


def wait_until_healthy(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if call("GET", base + "/api/health", timeout=5)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{base} was not healthy again within {timeout} s")
