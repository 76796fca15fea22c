from __future__ import annotations

import logging
from pathlib import Path

from wizard import logs
from wizard.logs import setup_logging
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
