"""The host processes of a chaos run: started on one hub, killed one at a time once ready,
replaced at once."""

from __future__ import annotations

import asyncio
import random
import signal
import time

from tests.e2e.conftest import READY, HostProcess

APP = "chaos_app"


class HostPool:
    """`size` host processes on one hub; `kill_one` SIGKILLs a ready one and starts another."""

    def __init__(self, size: int, env: dict[str, str], rng: random.Random) -> None:
        self._env = env
        self._rng = rng
        # --no-reload: what is killed is the host itself (a reloader's child would die with
        # it, but would also make every replacement slower to start).
        self.hosts = [HostProcess(APP, env, "--no-reload") for _ in range(size)]
        self.started = size
        self.killed: list[HostProcess] = []
        self._ready_since: dict[HostProcess, float] = {}

    def is_ready(self, host: HostProcess) -> bool:
        """Alive, and has said it is ready. Its output is searched only until then: a
        working host writes thousands of lines, and scanning them all on every look
        would make this driver the machine's busiest process."""
        if host.process.poll() is not None:
            return False
        if host in self._ready_since:
            return True
        if any(READY.search(x) for x in list(host.lines)):
            self._ready_since[host] = time.monotonic()
            return True
        return False

    async def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not all(self.is_ready(h) for h in self.hosts):
            dead = [h for h in self.hosts if h.process.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError("hosts did not start:\n" + "\n".join(
                    h.output[-3000:] for h in dead or self.hosts))
            await asyncio.sleep(0.2)

    async def settle(self, timeout: float = 120.0) -> None:
        """Wait until every host still alive is ready (dead ones are reported elsewhere)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not all(
            self.is_ready(h) for h in self.hosts if h.process.poll() is None
        ):
            await asyncio.sleep(0.2)

    def note_ready(self) -> None:
        """Record when each host was first seen ready."""
        for host in self.hosts:
            self.is_ready(host)

    def kill_one(self, min_ready: float = 0.0) -> bool:
        """SIGKILL a host that has been ready for at least `min_ready` seconds, and only
        when no replacement is still starting, so that each host does some work before it
        dies however slowly hosts start (on a slow machine most hosts would otherwise be
        starting up at any moment, each replacement killed as soon as it is ready, and
        the one or two working hosts would share the CPU with the start-ups)."""
        self.note_ready()
        now = time.monotonic()
        if any(h not in self._ready_since for h in self.hosts if h.process.poll() is None):
            return False  # the last replacement is still starting
        ready = [h for h in self.hosts if h in self._ready_since and self.is_ready(h)
                 and now - self._ready_since[h] >= min_ready]
        if not ready:
            return False
        victim = self._rng.choice(ready)
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        self._ready_since.pop(victim, None)
        self.hosts.remove(victim)
        self.killed.append(victim)
        self.hosts.append(HostProcess(APP, self._env, "--no-reload"))
        self.started += 1
        return True

    def unexpected_exits(self) -> list[str]:
        """Hosts that died without being killed, each with the end of what it printed."""
        return [f"host on port {h.port} exited by itself ({h.process.returncode}); its last "
                "lines:\n" + "\n".join(list(h.lines)[-15:])
                for h in self.hosts if h.process.poll() is not None]

    def stop(self) -> list[int]:
        codes = []
        for host in self.hosts:
            try:
                codes.append(host.stop())
            except AssertionError:
                codes.append(-1)
        return codes

    def outputs(self) -> list[str]:
        return [h.output for h in [*self.killed, *self.hosts]]
