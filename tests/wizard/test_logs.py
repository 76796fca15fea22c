from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wizard import logs
from wizard.logs import hold_early_records, setup_logging
from wizard.paths import hearth_paths


def _file_handlers() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if h.get_name() == "hearth-file"]


def test_logs_go_to_a_file_in_the_log_folder(hearth_home: Path) -> None:
    path = setup_logging()
    try:
        assert path == hearth_paths().log_file
        logging.getLogger("hearth.test").warning("the kettle is on")
        for handler in _file_handlers():
            handler.flush()
        assert "the kettle is on" in path.read_text(encoding="utf-8")
    finally:
        for handler in _file_handlers():
            logging.getLogger().removeHandler(handler)
            handler.close()


def test_the_log_rotates_instead_of_growing_without_end(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(logs, "MAX_BYTES", 2_000)
    path = setup_logging(log_file=tmp_path / "logs" / "hearth.log")
    try:
        for number in range(200):
            logging.getLogger("hearth.test").warning("line %d of a long day", number)
        files = sorted(path.parent.glob("hearth.log*"))
        assert len(files) == 1 + logs.BACKUP_COUNT
        assert all(f.stat().st_size <= 2_000 for f in files)
    finally:
        for handler in _file_handlers():
            logging.getLogger().removeHandler(handler)
            handler.close()


def test_setting_up_twice_keeps_one_file_handler(tmp_path: Path) -> None:
    setup_logging(log_file=tmp_path / "a.log")
    setup_logging(log_file=tmp_path / "b.log")
    try:
        handlers = _file_handlers()
        assert len(handlers) == 1
        assert Path(handlers[0].baseFilename) == tmp_path / "b.log"
    finally:
        for handler in _file_handlers():
            logging.getLogger().removeHandler(handler)
            handler.close()


@pytest.fixture
def held_then_cleaned():
    """hold_early_records for one test; the root logger is left as it was found."""
    root = logging.getLogger()
    level = root.level
    hold_early_records()
    yield
    if logs._held is not None:
        root.removeHandler(logs._held)
        logs._held = None
    for handler in _file_handlers():
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


def test_records_held_before_the_file_opens_go_in_first(held_then_cleaned, tmp_path: Path) -> None:
    logging.getLogger("hearth.test").info("before the window was drawn")
    path = setup_logging(log_file=tmp_path / "hearth.log")
    logging.getLogger("hearth.test").info("after")
    for handler in _file_handlers():
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert 0 <= text.find("before the window was drawn") < text.find("after")


def test_a_log_file_that_cannot_open_keeps_the_records_for_a_later_try(held_then_cleaned, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file", encoding="utf-8")
    logging.getLogger("hearth.test").warning("kept while the disk says no")
    with pytest.raises(OSError):
        setup_logging(log_file=blocked / "hearth.log")
    logging.getLogger("hearth.test").warning("still no file")  # held, not logging's last resort on stderr
    path = setup_logging(log_file=tmp_path / "logs" / "hearth.log")
    for handler in _file_handlers():
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "kept while the disk says no" in text and "still no file" in text


def test_held_records_reach_the_file_when_the_process_ends_before_it_opened(tmp_path: Path) -> None:
    code = ("import logging, sys\n"
            "from wizard.logs import hold_early_records\n"
            "hold_early_records()\n"
            "logging.getLogger('hearth.test').error('a crash before the first paint')\n"
            "sys.exit(3)\n")
    env = dict(os.environ, HEARTH_HOME=str(tmp_path / "home"))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 3, result.stderr
    log = (tmp_path / "home" / "logs" / "hearth.log").read_text(encoding="utf-8")
    assert "a crash before the first paint" in log


def test_held_records_go_in_first_while_other_threads_still_log_through_the_held_handler(
        held_then_cleaned, tmp_path: Path) -> None:
    import threading

    held = logs._held
    assert held is not None
    replaying = threading.Event()

    class FirstMessage:
        def __str__(self) -> str:  # formatted only once the held records are written to the file
            replaying.set()
            return "the first held record"

    def record(message: object, *args: object) -> logging.LogRecord:
        return logging.LogRecord("hearth.test", logging.INFO, __file__, 0, message, args, None)

    # Handed to the held handler itself: no other handler (pytest's) formats them early.
    held.handle(record(FirstMessage()))
    for number in range(3_000):
        held.handle(record("held %d", number))
    stop = threading.Event()

    def keep_logging() -> None:  # a thread that took the root's handlers before setup_logging removed it
        replaying.wait(10)
        late = record("late")
        while True:  # at least once, so after the held records began to be written
            held.handle(late)
            if stop.is_set():
                break

    threads = [threading.Thread(target=keep_logging, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        path = setup_logging(log_file=tmp_path / "hearth.log")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
    for handler in _file_handlers():
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert replaying.is_set()
    assert 0 <= text.find("the first held record") < text.find("held 2999\n") < text.find("late\n")
