"""The Ray engine: pass 1's per-document stages on a Ray cluster, the global passes on the driver.

What runs where:

* **the driver** (the process that runs ``retold scan``): reads the inputs, quarantines unreadable
  records, spools the repaired records to ``--out``, runs the global passes (exact grouping, LSH
  banding and verification, retold candidates and verification) and writes every output. Only the
  driver needs the input files and the output folder: workers get records through Ray's object
  store, so the cluster needs no shared file system.
* **the workers**: one Ray actor per CPU the cluster offers (or ``--workers``), each holding the same
  per-document stages the local engine runs (:func:`retold.engine.parallel.make_stages`: repair,
  exact digest, MinHash sketch, static embedding), built once per actor, so a model loads once per
  worker. Batches of ``BATCH`` records go round-robin to the actors, at most ``IN_FLIGHT`` per actor
  at a time (bounded memory on both sides), and come back **in input order**, so the outputs are
  the local engine's, byte for byte.

No stage module imports ray: this module adapts the stages (:class:`RayWorkers` has the interface of
:class:`retold.engine.parallel.Workers`). Every worker must have the same retold version installed;
a mismatch is refused before any work starts.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from retold._version import __version__
from retold.config import ScanConfig
from retold.engine.parallel import BATCH, _init, extra_levels, run_stages
from retold.errors import BadOption, RetoldError
from retold.records import Record
from retold.stages import Stage

IN_FLIGHT = 2  # batches queued per actor: one running, one waiting


class EngineNotAvailable(RetoldError):
    """The Ray engine cannot start: ray is not installed, or the cluster cannot be reached."""


class _StageActor:
    """Holds pass 1's stages on a worker (made a Ray actor by :class:`RayWorkers`)."""

    def __init__(self, config: ScanConfig, detects: bool, levels: list[Any]) -> None:
        _init(config, detects, levels)

    def version(self) -> str:
        return __version__

    def run(self, batch: list[Record]) -> tuple[list[Record], list[dict[str, int]]]:
        return run_stages(batch)

    def call(self, fn: Callable[[Any], Any], item: Any) -> Any:
        return fn(item)


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise EngineNotAvailable(
            "--engine ray needs ray, which is not installed; pip install 'retold[ray]'"
        ) from None
    return ray


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _python_handlers() -> dict[int, Any]:
    """This process's Python handlers of the stop signals (the CLI's, which stop a run cleanly)."""
    return {sig: signal.getsignal(sig) for sig in _STOP_SIGNALS}


def _reinstall(handlers: dict[int, Any]) -> None:
    """Ray's core worker puts its own SIGTERM handler in place (it dumps a stack and dies with the
    signal, exit -15): the run's handlers go back, so a stop signal under Ray stops the run as it
    does locally (exit 143, the resume message)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig, handler in handlers.items():
        if callable(handler) or handler in (signal.SIG_IGN, signal.SIG_DFL):
            signal.signal(sig, handler)


def _reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast on a HOST:PORT nobody listens on: ``ray.init`` retries such an address for minutes."""
    host, sep, port = address.rpartition(":")
    if not sep or address == "auto" or "://" in address or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise EngineNotAvailable(
            f"no Ray cluster answers at --address {address} ({exc.strerror or exc}); start one with "
            "`ray start --head` or give the head node's HOST:PORT"
        ) from None


class RayWorkers:
    """Pass 1's stages on Ray actors; ``run`` keeps the input order (like ``Workers``).

    ``address``: a running cluster (``HOST:PORT``, ``auto``, or ``ray://…``); None connects to
    ``RAY_ADDRESS`` if set, else starts a Ray instance on this machine for the run. A Ray session
    the caller already started (``ray.init`` in the same process) is used as it is and left running.
    """

    def __init__(
        self, config: ScanConfig, detects: bool, address: str | None = None, workers: int | None = None
    ) -> None:
        ray = _ray()
        self.ray = ray
        self.started = not ray.is_initialized()
        if self.started:
            kwargs: dict[str, Any] = {"logging_level": "WARNING", "log_to_driver": True}
            if address is None and not os.environ.get("RAY_ADDRESS"):
                kwargs["include_dashboard"] = False  # a private instance for this run
                if workers is not None:
                    kwargs["num_cpus"] = workers
            if address is not None:
                _reachable(address)
            handlers = _python_handlers()
            try:
                ray.init(address=address, **kwargs)
                _reinstall(handlers)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise EngineNotAvailable(
                    f"cannot connect to the Ray cluster at {address or os.environ.get('RAY_ADDRESS')}: "
                    f"{str(exc).splitlines()[0]}; check --address (HOST:PORT of the head node) and that "
                    "`ray status` works there"
                ) from None
        try:
            cpus = int(ray.cluster_resources().get("CPU", 1))
            self.workers = max(1, workers if workers is not None else cpus)
            actor = ray.remote(num_cpus=1)(_StageActor)
            self.actors = [actor.remote(config, detects, extra_levels()) for _ in range(self.workers)]
            versions = set(ray.get([a.version.remote() for a in self.actors]))
            if versions != {__version__}:
                raise BadOption(
                    f"the Ray workers run retold {', '.join(sorted(versions))}, this driver {__version__}; "
                    "install the same retold version on every node"
                )
        except BaseException:
            self.terminate()
            raise
        self.address = ray.get_runtime_context().gcs_address

    def run(self, records: Iterable[Record], stages: list[Stage]) -> Iterator[Record]:
        """The records annotated by the actors; their counts are added to ``stages``' stats."""
        it = iter(records)
        batches = iter(lambda: list(itertools.islice(it, BATCH)), [])
        pending: deque[Any] = deque()
        window = IN_FLIGHT * len(self.actors)
        for k, batch in enumerate(batches):
            pending.append(self.actors[k % len(self.actors)].run.remote(batch))
            if len(pending) >= window:
                yield from self._collect(pending.popleft(), stages)
        while pending:
            yield from self._collect(pending.popleft(), stages)

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """``fn`` (a module-level function) over ``items`` on the actors, results in order."""
        pending: deque[Any] = deque()
        window = IN_FLIGHT * len(self.actors)
        for k, item in enumerate(items):
            pending.append(self.actors[k % len(self.actors)].call.remote(fn, item))
            if len(pending) >= window:
                yield self.ray.get(pending.popleft())
        while pending:
            yield self.ray.get(pending.popleft())

    def _collect(self, ref: Any, stages: list[Stage]) -> list[Record]:
        out, stats = self.ray.get(ref)
        for stage, counts in zip(stages, stats, strict=True):
            stage.stats.update(counts)
        return out

    def close(self, wait: bool = True) -> None:
        """The actors killed and the cluster this run started shut down, at once (``wait``: the
        local pool's signature; there is nothing left here to wait for)."""
        for a in getattr(self, "actors", []):
            self.ray.kill(a)
        self.actors = []
        if self.started:
            self.ray.shutdown()
            self.started = False

    terminate = close


#: What makes a one-node cluster bind to loopback and authenticate with its own token.
def loopback_env(token: str) -> dict[str, str]:
    return {
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # node address 127.0.0.1, not the outward one
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": token,
    }


#: Seconds a :class:`LoopbackCluster` has to stop on SIGTERM before its process group is killed.
STOP_GRACE = 5.0


class LoopbackCluster:
    """A one-node Ray cluster on 127.0.0.1 (``ray start --head --block`` in its own process group),
    for tests and benchmarks: ``with LoopbackCluster(cpus=2) as c: ... c.address, c.env``.

    Every wait is bounded; leaving the block stops the cluster (SIGTERM to the group, then
    SIGKILL after :data:`STOP_GRACE` seconds). Clients need ``c.env`` in their environment (node address and token).
    """

    def __init__(self, cpus: int = 2, start_timeout: float = 90.0) -> None:
        import secrets
        import sys
        import tempfile

        self.cpus = cpus
        self.start_timeout = start_timeout
        self.env = {**os.environ, **loopback_env(secrets.token_hex(32))}
        self.ray_bin = os.path.join(os.path.dirname(sys.executable), "ray")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.address = f"127.0.0.1:{self.port}"
        self.temp = tempfile.mkdtemp(prefix="rr-", dir="/tmp")  # Ray's socket paths must stay short
        self.log = os.path.join(self.temp, "head.log")
        self.proc: Any = None

    def __enter__(self) -> LoopbackCluster:
        import subprocess
        import time

        with open(self.log, "wb") as fh:
            self.proc = subprocess.Popen(
                [
                    self.ray_bin,
                    "start",
                    "--head",
                    "--block",
                    "--node-ip-address=127.0.0.1",
                    f"--port={self.port}",
                    f"--num-cpus={self.cpus}",
                    "--include-dashboard=false",
                    "--disable-usage-stats",
                    f"--temp-dir={self.temp}",
                ],
                env=self.env,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                raise EngineNotAvailable(f"ray start exited with {self.proc.returncode}: {self._tail()}")
            with open(self.log, "rb") as fh:
                started = b"Ray runtime started" in fh.read()
            if started:
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", self.port)) == 0:
                        return self
            if time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise EngineNotAvailable(
                    f"the Ray head did not start in {self.start_timeout:.0f} s: {self._tail()}"
                )
            time.sleep(0.5)

    def _tail(self) -> str:
        with open(self.log, "rb") as fh:
            return fh.read()[-1500:].decode("utf-8", "replace")

    def __exit__(self, *exc: object) -> None:
        import contextlib
        import shutil
        import signal
        import subprocess
        import time

        if self.proc is None:
            shutil.rmtree(self.temp, ignore_errors=True)
            return
        if self.proc.poll() is None:
            # SIGTERM first; ray start's own shutdown of an idle head takes 33 s on this machine
            # (2026-12-06), so after a short grace the group is killed: the cluster is this
            # process's alone, and its state lives in self.temp, removed below
            os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=STOP_GRACE)
        # the group's other processes (gcs, raylet, workers) gone too, even when the head itself
        # had exited; bounded, as a member left unreaped would keep the group alive
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            if self.proc.poll() is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=1)
            time.sleep(0.1)
        shutil.rmtree(self.temp, ignore_errors=True)
