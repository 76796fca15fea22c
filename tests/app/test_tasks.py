"""app.tasks runs core work off the UI thread and reports back on it."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import shiboken6
from PySide6.QtCore import QThread, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from app.tasks import cancel_all_and_wait, run_task
from wizard.errors import HearthError


def _on_ui_thread() -> bool:
    return QThread.currentThread() is QApplication.instance().thread()


def test_progress_and_result_arrive_on_the_ui_thread(qtbot) -> None:
    worker_threads: list[bool] = []
    seen: list[tuple[str, object, bool]] = []

    def work(progress, cancel):
        worker_threads.append(_on_ui_thread())
        for step in range(3):
            progress(step)
        return "done"

    handle = run_task(work, on_progress=lambda p: seen.append(("progress", p, _on_ui_thread())),
                      on_success=lambda r: seen.append(("result", r, _on_ui_thread())))
    qtbot.waitUntil(lambda: ("result", "done", True) in seen, timeout=5000)
    assert worker_threads == [False], "the work ran on the UI thread"
    assert seen == [("progress", 0, True), ("progress", 1, True), ("progress", 2, True), ("result", "done", True)]
    assert handle.wait(1) and not handle.running


def test_an_error_is_delivered_with_its_plain_message(qtbot) -> None:
    errors: list[tuple[BaseException, bool]] = []

    def work(progress, cancel):
        raise HearthError("The disk is full.", hint="Free some space.")

    run_task(work, on_error=lambda exc: errors.append((exc, _on_ui_thread())))
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    [(exc, on_ui)] = errors
    assert on_ui and isinstance(exc, HearthError) and exc.user_message == "The disk is full."


def test_without_on_error_the_error_dialog_is_shown(qtbot, monkeypatch) -> None:
    shown: list[BaseException] = []
    monkeypatch.setattr("app.error_dialog.show_error", lambda parent, exc: shown.append(exc))

    def work(progress, cancel):
        raise ValueError("boom")

    run_task(work)
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert isinstance(shown[0], ValueError)


def test_a_window_closed_while_its_task_runs_gets_no_callbacks_but_an_error_is_still_shown(
        qtbot, monkeypatch) -> None:
    shown: list[tuple[object, BaseException]] = []
    monkeypatch.setattr("app.error_dialog.show_error", lambda parent, exc: shown.append((parent, exc)))
    release = threading.Event()
    window = QWidget()
    label = QLabel("waiting", window)
    called: list[str] = []

    def work(progress, cancel):
        release.wait(10)
        progress(1)
        raise ValueError("boom")

    handle = run_task(work, parent=window, on_progress=lambda _p: label.setText("progress"),
                      on_finished=lambda: called.append("finished"))
    window.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(window), timeout=5000)
    release.set()
    qtbot.waitUntil(lambda: not handle.running and bool(shown), timeout=5000)
    assert called == []  # label.setText would have raised: the label is gone with its window
    [(parent, exc)] = shown
    assert parent is None and isinstance(exc, ValueError)  # nothing is lost: shown on its own


def test_cancel_stops_the_work_and_the_window_never_freezes(qtbot) -> None:
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(10)
    finished: list[str] = []

    def work(progress, cancel):
        while not cancel.wait(0.01):
            pass
        return "stopped"

    handle = run_task(work, on_success=finished.append)
    qtbot.wait(300)  # the UI thread keeps ticking while the work runs
    assert handle.running
    assert len(ticks) >= 10
    handle.cancel()
    qtbot.waitUntil(lambda: finished == ["stopped"], timeout=5000)
    timer.stop()


def test_cancel_all_and_wait_stops_every_running_task(qtbot) -> None:
    started = threading.Barrier(3)

    def work(progress, cancel):
        started.wait(5)
        cancel.wait(10)
        return None

    handles = [run_task(work) for _ in range(2)]
    started.wait(5)
    assert cancel_all_and_wait(timeout=5)
    assert all(h.wait(0) for h in handles)
    qtbot.waitUntil(lambda: not any(h.running for h in handles), timeout=5000)


def test_a_task_runs_until_its_outcome_reaches_the_ui_thread(qtbot) -> None:
    # The worker returns at once, but the result is still queued for the UI thread: a page that
    # took "the thread is done" for "the task is over" used to close before the result arrived.
    results: list[str] = []
    handle = run_task(lambda progress, cancel: "result", on_success=results.append,
                      on_finished=lambda: results.append(f"finished, running={handle.running}"))
    assert handle.wait(5)
    assert handle.running and results == []
    qtbot.waitUntil(lambda: not handle.running, timeout=5000)
    assert results == ["result", "finished, running=False"]


def test_many_tasks_at_once_all_report(qtbot) -> None:
    count = 20
    results: list[int] = []
    for number in range(count):
        run_task(lambda progress, cancel, n=number: n * n, on_success=results.append)
    qtbot.waitUntil(lambda: len(results) == count, timeout=10000)
    assert sorted(results) == [n * n for n in range(count)]


THOUSANDS_OF_REPORTS = """
import threading
from PySide6.QtCore import QCoreApplication
from app.gui import create_application
from app.tasks import run_task

app = create_application([])
received = []

def work(progress, cancel):
    for step in range(3000):
        progress(step)
    return True

handle = run_task(work, on_progress=received.append, on_success=received.append)
handle.wait(60)
for _ in range(100):
    QCoreApplication.processEvents()
print("RECEIVED", len(received))
"""


def test_thousands_of_progress_reports_leave_python_intact() -> None:
    """A worker may report progress thousands of times; Qt's bindings must not corrupt Python.

    PySide6 6.12.0 dropped a reference on every signal sent from a worker thread and the
    interpreter aborted ("deallocating True or False"); this guards the version cap.
    """
    import os
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", THOUSANDS_OF_REPORTS], capture_output=True, text=True,
                            timeout=120, env=dict(os.environ), cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr[-2000:]
    assert "RECEIVED 3001" in result.stdout


def test_a_stop_the_person_asked_for_is_logged_as_an_outcome_not_a_failure(qtbot, caplog) -> None:
    from wizard.download import DownloadCancelled

    errors: list[BaseException] = []
    caplog.set_level(logging.INFO, logger="app.tasks")

    def stopped(progress, cancel):
        raise DownloadCancelled("The download was stopped.")

    def broken(progress, cancel):
        raise ValueError("boom")

    for work in (stopped, broken):
        handle = run_task(work, name=work.__name__, on_error=errors.append)
        qtbot.waitUntil(lambda: not handle.running, timeout=5000)
    assert [type(exc) for exc in errors] == [DownloadCancelled, ValueError]  # both still reach the window
    records = {record.getMessage(): record for record in caplog.records if record.name == "app.tasks"}
    stop = records["Task 'stopped' stopped: The download was stopped."]
    assert stop.levelno == logging.INFO and stop.exc_info is None
    failure = records["Task 'broken' failed"]
    assert failure.levelno == logging.ERROR and failure.exc_info is not None
