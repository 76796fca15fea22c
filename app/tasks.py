"""The one way Hearth runs core work off the UI thread.

Core functions in ``wizard/`` are plain functions that take keyword-only ``progress`` and
``cancel`` parameters. ``run_task`` calls one on a worker thread and delivers its
progress, result and error back on the UI thread, where widgets may be touched:

    handle = run_task(
        lambda progress, cancel: download(repo, file, progress=progress, cancel=cancel),
        parent=self,
        on_progress=self.show_progress,
        on_success=self.download_finished,
    )
    cancel_button.clicked.connect(handle.cancel)

Do not touch any widget inside the function: it runs on another thread. Errors are
logged with their traceback and, unless ``on_error`` is given, shown with the one error
dialog. Nothing here holds business logic.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QApplication, QWidget

from wizard.errors import StoppedByPerson

log = logging.getLogger(__name__)

Work = Callable[[Callable[[Any], None], threading.Event], Any]

_running: set[TaskHandle] = set()  # keeps handles (and their signal objects) alive until done


class _Signals(QObject):
    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(object)
    finished = Signal()


class TaskHandle:
    """A running task: cancel it, or ask whether it is still running."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.cancel_event = threading.Event()
        self.signals = _Signals()
        self._done = threading.Event()
        self._delivered = False

    def cancel(self) -> None:
        """Ask the work to stop; it sees ``cancel.is_set()`` and returns or raises."""
        self.cancel_event.set()

    @property
    def running(self) -> bool:
        """True until the outcome has reached the UI thread.

        Not until the worker returned: between the two, ``on_success``/``on_error`` are still
        queued, and a caller that treated the task as over (closing its dialog, say) would drop
        the result.
        """
        return not self._delivered

    def _mark_delivered(self) -> None:
        self._delivered = True

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work has returned (for shutdown and tests, not the UI)."""
        return self._done.wait(timeout)


class _Runner(QRunnable):
    def __init__(self, work: Work, handle: TaskHandle) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._work = work
        self._handle = handle

    def run(self) -> None:
        handle = self._handle
        try:
            result = self._work(handle.signals.progressed.emit, handle.cancel_event)
        except BaseException as exc:  # noqa: BLE001 - every failure goes to the UI, none is lost
            if isinstance(exc, StoppedByPerson):  # an outcome the person asked for, not a failure
                log.info("Task %r stopped: %s", handle.name, exc.user_message)
            else:
                log.error("Task %r failed", handle.name, exc_info=exc)
            handle.signals.failed.emit(exc)
        else:
            handle.signals.succeeded.emit(result)
        finally:
            # finished first: once _done is set, a closing app may quit and delete the signals object
            handle.signals.finished.emit()
            handle._done.set()


def run_task(
    work: Work,
    *,
    parent: QWidget | None = None,
    name: str = "",
    on_success: Callable[[Any], None] | None = None,
    on_progress: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    on_finished: Callable[[], None] | None = None,
    pool: QThreadPool | None = None,
) -> TaskHandle:
    """Run ``work(progress, cancel)`` on a worker thread; callbacks run on the UI thread."""
    handle = TaskHandle(name or getattr(work, "__name__", "task"))
    signals = handle.signals
    # Moving the signal object to the UI thread makes every connection below queued:
    # the callbacks run in the UI thread's event loop, never on the worker.
    app = QApplication.instance()
    if app is not None:
        signals.moveToThread(app.thread())
    signals.finished.connect(handle._mark_delivered)  # first, so on_finished already sees it over
    for signal, callback in ((signals.progressed, on_progress), (signals.succeeded, on_success),
                             (signals.failed, on_error), (signals.finished, on_finished)):
        if callback is not None:
            signal.connect(_while_alive(parent, callback, handle.name))
    if on_error is None:
        signals.failed.connect(lambda exc: _show_error(parent if _alive(parent) else None, exc))
    signals.finished.connect(lambda: _running.discard(handle))
    _running.add(handle)
    (pool or QThreadPool.globalInstance()).start(_Runner(work, handle))
    return handle


def _alive(widget: QWidget | None) -> bool:
    return widget is not None and shiboken6.isValid(widget)


def _while_alive(parent: QWidget | None, callback: Callable[..., None], name: str) -> Callable[..., None]:
    """``callback``, skipped once ``parent`` is deleted (a window closed while its task ran on)."""
    if parent is None:
        return callback

    def call(*args: Any) -> None:
        if _alive(parent):
            callback(*args)
        else:
            log.debug("task %r: its window closed before it finished; %s skipped", name,
                      getattr(callback, "__name__", "a callback"))
    return call


def cancel_all_and_wait(timeout: float = 5.0) -> bool:
    """At quit: ask every running task to stop and wait for them; True if all stopped."""
    handles = list(_running)
    for handle in handles:
        handle.cancel()
    return all(handle.wait(timeout) for handle in handles)


def _show_error(parent: QWidget | None, exc: BaseException) -> None:
    from app.error_dialog import show_error

    show_error(parent, exc)
