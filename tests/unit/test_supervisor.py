"""The supervisor in scripts/run_stack.py (what `make run` runs): a part that
exits is started again after a pause that doubles with each quick crash, the
others are left alone, and a part that ran well starts again at once.
(tests/stack/test_faults.py kills the real processes.)"""
from scripts.run_stack import Supervisor


class FakeProcess:
    def __init__(self) -> None:
        self.code = None

    def poll(self):
        return self.code

    def terminate(self) -> None:
        self.code = -15

    def wait(self, timeout=None):
        return self.code


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_crashed_part_is_restarted_with_growing_pauses_and_the_rest_keep_running():
    clock, started = Clock(), []

    def start(command):
        started.append(command[0])
        return FakeProcess()

    supervisor = Supervisor({"rasa": ["rasa"], "gateway": ["gateway"]}, {}, start=start, clock=clock)
    supervisor.start_all()
    gateway = supervisor.processes["gateway"]
    pauses = []
    for _ in range(7):
        supervisor.processes["rasa"].code = -9  # killed
        crashed_at = clock.now
        assert supervisor.check() == ["rasa"] and not supervisor.running("rasa")
        while not supervisor.running("rasa"):
            clock.now += 0.1
            assert supervisor.check() == []
        pauses.append(clock.now - crashed_at)
    # Each within its 10% of jitter (and one tick of this clock).
    for pause, expected in zip(pauses, [1, 2, 4, 8, 16, 30, 30]):
        assert expected * 0.9 <= pause <= expected * 1.1 + 0.1
    assert supervisor.restarts == {"rasa": 7, "gateway": 0}
    assert supervisor.processes["gateway"] is gateway and supervisor.running("gateway")

    # Up for a minute or more: the next crash is a fresh start, with a short pause.
    clock.now += Supervisor.STABLE_SECONDS
    supervisor.processes["rasa"].code = 1
    crashed_at = clock.now
    supervisor.check()
    while not supervisor.running("rasa"):
        clock.now += 0.1
        supervisor.check()
    assert 0.9 <= clock.now - crashed_at <= 1.2


def test_stop_ends_every_part():
    supervisor = Supervisor({"a": ["a"], "b": ["b"]}, {}, start=lambda command: FakeProcess())
    supervisor.start_all()
    supervisor.stop()
    assert all(p.poll() is not None for p in supervisor.processes.values())


def test_a_key_made_up_for_one_run_never_seals_two_factor_secrets(monkeypatch):
    """`make run` makes up CHANNEL_ID_KEY when .env has none: good for one run's chat
    ids, but two-factor secrets sealed with it would be lost at the next run and lock
    the admin out. So the gateway is told, and keeps them unsealed as when unset."""
    from bot.settings import Settings
    from scripts.run_stack import child_environment

    monkeypatch.delenv("CHANNEL_ID_KEY", raising=False)
    made_up = child_environment({"action_url": "", "log_level": "INFO", "token": "t", "rasa_port": "1",
                                 "model": "m", "action_port": "2", "channel_id_key": "made-up"})
    settings = Settings.from_env(made_up)
    assert settings.channel_id_key == b"made-up" and settings.staff_totp_key == b""

    monkeypatch.setenv("CHANNEL_ID_KEY", "from-dot-env")
    kept = child_environment({"action_url": "", "log_level": "INFO", "token": "t", "rasa_port": "1",
                              "model": "m", "action_port": "2", "channel_id_key": "from-dot-env"})
    assert Settings.from_env(kept).staff_totp_key == b"from-dot-env"
