"""Following a job: status polling with backoff, log streaming, terminal states, Ctrl-C cancels."""

from __future__ import annotations

import _thread
import signal
import threading
from collections.abc import Iterator

import pytest

from ddc.errors import ServiceError
from ddc.nemo.client import NemoClient
from ddc.submission.errors import JobFailedError, JobWaitTimeout
from ddc.submission.jobs import LogFollower, format_log_message, wait_for_job
from tests.servers.nemo_services import NemoServices
from tests.submission.conftest import TOKEN
from tests.submission.test_client import MINIMAL_JOB


def start_job(server: NemoServices, client: NemoClient) -> str:
    return str(client.create_job(MINIMAL_JOB)["name"])


@pytest.fixture
def client(nemo: NemoServices) -> NemoClient:
    with NemoClient(nemo.base_url, token=TOKEN, timeout=5.0) as c:
        yield c  # type: ignore[misc]


def test_each_log_line_is_reported_once_across_pages(nemo: NemoServices, client: NemoClient) -> None:
    lines: list[str] = []
    name = start_job(nemo, client)
    wait_for_job(client, name, poll_interval=0, report=lines.append)
    logs = [line for line in lines if line.startswith("log: ")]
    expected = [format_log_message(e) for e in nemo.jobs[("default", name)].logs]
    assert logs == [f"log: {m}" for m in expected]
    assert len(nemo.requests_to("GET", r"/logs$")) > len(nemo.requests_to("GET", r"/status$"))  # paginated


def test_the_poll_interval_backs_off_and_resets_on_a_status_change(nemo: NemoServices, client: NemoClient) -> None:
    nemo.statuses = ["created", "pending", "pending", "active", "completed"]  # one step per poll
    sleeps: list[float] = []
    wait_for_job(client, start_job(nemo, client), poll_interval=1.0, sleep=sleeps.append)
    assert sleeps == [1.0, 1.5, 1.0]


def test_a_job_ending_in_error_raises_with_exit_code_3_and_the_reason(nemo: NemoServices, client: NemoClient) -> None:
    nemo.statuses = ["created", "active", "error"]
    with pytest.raises(JobFailedError) as info:
        wait_for_job(client, start_job(nemo, client), poll_interval=0)
    assert info.value.exit_code == 3
    assert "ended with status error: generation failed" in str(info.value)


def test_a_cancelled_job_raises_with_exit_code_3(nemo: NemoServices, client: NemoClient) -> None:
    nemo.statuses = ["created", "cancelled"]
    with pytest.raises(JobFailedError) as info:
        wait_for_job(client, start_job(nemo, client), poll_interval=0)
    assert (info.value.status, info.value.exit_code) == ("cancelled", 3)


def test_a_wait_past_its_timeout_raises_exit_5_and_leaves_the_job_running(
    nemo: NemoServices, client: NemoClient
) -> None:
    nemo.statuses = ["active"]  # never ends
    now, sleeps = [0.0], []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    name = start_job(nemo, client)
    with pytest.raises(JobWaitTimeout) as info:
        wait_for_job(client, name, poll_interval=1.0, timeout=2.0, sleep=sleep, clock=lambda: now[0])
    assert (info.value.exit_code, info.value.status) == (5, "active")
    assert sleeps == [1.0, 1.0]  # the second ends at the deadline (its backoff would have been 1.5)
    assert nemo.requests_to("POST", r"/cancel$") == []


def test_transient_poll_failures_are_tolerated(nemo: NemoServices, client: NemoClient) -> None:
    nemo.fail("GET", r"/status$", 503, times=2)
    assert wait_for_job(client, start_job(nemo, client), poll_interval=0) == "completed"


def test_repeated_poll_failures_give_up(nemo: NemoServices, client: NemoClient) -> None:
    nemo.fail("GET", r"/status$", 500)
    with pytest.raises(ServiceError, match="HTTP 500"):
        wait_for_job(client, start_job(nemo, client), poll_interval=0)


@pytest.fixture
def sigint_raises_keyboard_interrupt() -> Iterator[None]:
    """Python's own SIGINT handler, whatever the test process inherited.

    Under `nohup ... &` SIGINT arrives ignored, and `_thread.interrupt_main` then does nothing."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("sigint_raises_keyboard_interrupt")
def test_ctrl_c_while_waiting_asks_the_service_to_cancel(nemo: NemoServices, client: NemoClient) -> None:
    nemo.statuses = ["created", "active"]  # never finishes on its own
    name = start_job(nemo, client)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            wait_for_job(client, name, poll_interval=0.05, max_interval=0.05)
    finally:
        timer.cancel()
    assert nemo.requests_to("POST", rf"/jobs/create/{name}/cancel$")
    assert nemo.jobs[("default", name)].status == "cancelling"


def test_log_follower_reads_all_pages_of_a_finished_job(nemo: NemoServices, client: NemoClient) -> None:
    name = start_job(nemo, client)
    for _ in range(3):
        client.job_status(name)
    lines = LogFollower(client, name).new_lines()
    assert lines[0] == "info: job created"
    assert len(lines) == len(nemo.jobs[("default", name)].logs) == 6


def test_log_messages_are_unwrapped_from_the_worker_json() -> None:
    entry = {"message": '[stderr] {"name": "data_designer.x", "levelname": "WARNING", "message": "slow model"}'}
    assert format_log_message(entry) == "warning: slow model"


def test_a_transient_log_failure_loses_no_lines(nemo: NemoServices, client: NemoClient) -> None:
    nemo.fail("GET", r"/logs$", 502, times=1)
    lines: list[str] = []
    name = start_job(nemo, client)
    wait_for_job(client, name, poll_interval=0, report=lines.append)
    assert sum(line.startswith("log: ") for line in lines) == len(nemo.jobs[("default", name)].logs)


def test_a_log_failure_on_a_later_page_loses_no_lines(nemo: NemoServices, client: NemoClient) -> None:
    name = start_job(nemo, client)
    for _ in range(3):
        client.job_status(name)
    follower = LogFollower(client, name)
    nemo.fail("GET", r"/logs$", 502, times=1, query="page_cursor=2")
    with pytest.raises(ServiceError):
        follower.new_lines()
    assert len(follower.new_lines()) == len(nemo.jobs[("default", name)].logs)
