"""The start-up health check, sent while the run is still starting up.

Between reading its spec and sending its first cell a ``ddc run`` spends a few tenths of a second
importing and planning. The probes (``ddc.engine.llm.health``) need only the resolved models, so they
go out from a thread of their own, with its own event loop and connection, as soon as the spec is
loaded; by the time the first cells are ready the answers are usually back, and the cells get every
model slot from the first round on. (Sent with the first cells, a probe takes one of the model's slots
for one round trip: 401 requests in 16 slots are 26 rounds, 400 are 25.)

``LLMRuntime.ready`` then only reads the outcome. While a probe is still out it holds one slot of its
model, so the model never has more than ``max_parallel_requests`` requests in flight. The outcome is
reported where it always was: a failed probe ends the run with the same error, after the same checks
that come before it (the dataset lock, the seed), and nothing is written.

The thread is not a daemon; ``close`` cancels a probe still out and joins the thread, on every way out
of the run (an error, Ctrl-C before the event loop starts). It leaves SIGINT and SIGTERM to the main
thread (``ddc.engine.warm_up.block_stop_signals``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ddc.errors import DdcError

if TYPE_CHECKING:
    from ddc.engine.llm.client import ModelClient
    from ddc.engine.llm.health import ModelCheck
    from ddc.engine.llm.providers import ResolvedModel
    from ddc.spec.document import Spec


class EarlyHealthCheck:
    """The resolved models of a run and, unless every probe is skipped, their probes in flight."""

    def __init__(self, models: dict[str, ResolvedModel], probed: list[ResolvedModel]) -> None:
        self.models = models
        self.probed = probed
        self._outcome: concurrent.futures.Future[list[ModelCheck]] = concurrent.futures.Future()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[list[ModelCheck]] | None = None
        self._closed = False
        self._thread: threading.Thread | None = None
        # running from now on: the run's event loop, waiting on it, can no longer cancel it under the thread
        self._outcome.set_running_or_notify_cancel()
        if probed:
            self._thread = threading.Thread(target=self._run, name="ddc-health-check", daemon=False)
            self._thread.start()
        else:
            self._outcome.set_result([])

    def covers(self, models: list[ResolvedModel]) -> bool:
        """Whether these are the models probed here (the runtime probes by itself otherwise)."""
        return [m.alias for m in models] == [m.alias for m in self.probed]

    async def outcome(self, client: ModelClient) -> list[ModelCheck]:
        """The checks, in model order; while the probes are out, one slot of each probed model is held."""
        if self._outcome.done():
            return self._outcome.result()
        answer = asyncio.wrap_future(self._outcome)
        async with contextlib.AsyncExitStack() as slots:
            for model in self.probed:
                limiter = client.limiters[model.alias]
                await limiter.acquire(first=True)
                slots.push_async_callback(limiter.release)
            return await answer

    def close(self) -> None:
        """Cancel the probes still out and wait for the thread (it ends within a loop iteration)."""
        with self._lock:
            self._closed = True
            if self._loop is not None and self._task is not None:
                with contextlib.suppress(RuntimeError):  # the loop has just closed: nothing left to cancel
                    self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        from ddc.engine.warm_up import block_stop_signals

        block_stop_signals()
        try:
            self._outcome.set_result(asyncio.run(self._probe_all()))
        except BaseException as exc:  # a cancelled probe, or a bug: raised where the outcome is awaited
            self._outcome.set_exception(exc)

    async def _probe_all(self) -> list[ModelCheck]:
        from ddc.engine.llm.health import probe_all

        with self._lock:
            if self._closed:
                raise asyncio.CancelledError
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
        return await probe_all({m.alias: m for m in self.probed})


@contextlib.contextmanager
def early_health_check(spec: Spec) -> Iterator[EarlyHealthCheck | None]:
    """Resolve the spec's models and send their probes; None when the spec uses no model, or when a
    model cannot be resolved (the runtime resolves again where the run reports such errors)."""
    from ddc.engine.llm.health import models_to_probe
    from ddc.engine.llm.providers import resolve_models

    try:
        models = resolve_models(spec)
    except DdcError:
        models = {}
    if not models:
        yield None
        return
    check = EarlyHealthCheck(models, models_to_probe(models.values()))
    try:
        yield check
    finally:
        check.close()
