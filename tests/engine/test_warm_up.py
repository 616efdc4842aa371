"""Work moved into a helper thread: the GIL switch interval is short while it runs, failures stay quiet, and
stop signals go to the main thread."""

from __future__ import annotations

import signal
import sys
import threading

from ddc.engine.warm_up import in_background


def test_the_switch_interval_is_short_while_a_warm_up_runs_and_restored_after() -> None:
    before = sys.getswitchinterval()
    release = threading.Event()
    seen: list[float] = []

    def work() -> None:
        seen.append(sys.getswitchinterval())
        release.wait(5)

    thread = in_background("test-warm-up", work)
    release.set()
    thread.join(5)
    assert seen == [min(before, 0.0005)]
    assert sys.getswitchinterval() == before


def test_the_interval_comes_back_only_when_the_last_of_two_warm_ups_ends() -> None:
    before = sys.getswitchinterval()
    first_done, release_second = threading.Event(), threading.Event()
    first = in_background("test-warm-up-1", first_done.wait)
    second = in_background("test-warm-up-2", lambda: release_second.wait(5))
    first_done.set()
    first.join(5)
    assert sys.getswitchinterval() == min(before, 0.0005)
    release_second.set()
    second.join(5)
    assert sys.getswitchinterval() == before


def test_a_failing_warm_up_ends_quietly(capsys) -> None:
    before = sys.getswitchinterval()

    def work() -> None:
        raise ImportError("no such module")

    in_background("test-warm-up", work).join(5)
    assert capsys.readouterr().err == ""
    assert sys.getswitchinterval() == before


def test_a_process_ending_during_a_warm_up_waits_for_it(tmp_path, subprocess_env) -> None:
    """Stopped mid-way inside an extension's C++ code, a warm-up would abort the process at exit."""
    import subprocess

    done_file = tmp_path / "done"
    code = (
        "import pathlib, time\n"
        "from ddc.engine.warm_up import in_background\n"
        f"in_background('test', lambda: (time.sleep(0.3), pathlib.Path({str(done_file)!r}).write_text('ok')))\n"
    )
    finished = subprocess.run([sys.executable, "-c", code], env=subprocess_env, capture_output=True, timeout=30)
    assert finished.returncode == 0 and done_file.read_text() == "ok"


def test_a_warm_up_leaves_stop_signals_to_the_main_thread() -> None:
    masks: list[set[int]] = []
    thread = in_background("test-warm-up", lambda: masks.append(set(signal.pthread_sigmask(signal.SIG_BLOCK, []))))
    thread.join(5)
    assert {signal.SIGINT, signal.SIGTERM} <= masks[0]
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])  # the caller's mask is untouched
