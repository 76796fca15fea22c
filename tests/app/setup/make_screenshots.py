"""Screenshot every setup wizard page on a real X server, for reviews and the README.

    xvfb-run -a -s "-screen 0 1280x900x24" .venv/bin/python tests/app/setup/make_screenshots.py assets/screenshots

Drives the real wizard the way the end-to-end test does: the real hardware probe, the
shipped recipes and model list, the tiny test model downloaded from the local Hub mirror
(tests/support/hub_mirror.py) and checked by the real engine. Everything is kept in a
temporary HEARTH_HOME; nothing reaches the internet.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))
os.environ["HEARTH_HOME"] = tempfile.mkdtemp(prefix="hearth-screenshots-")
os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

from PySide6.QtWidgets import QApplication, QWizard  # noqa: E402

from app.gui import create_application  # noqa: E402
from app.tasks import cancel_all_and_wait  # noqa: E402
from app.ui.setup import SetupServices, SetupWizard  # noqa: E402
from tests.app.setup.conftest import TINY_ID, TINY_REPO, tiny_catalog  # noqa: E402
from tests.support.hub_mirror import HubMirror  # noqa: E402
from tests.support.tiny_model import FILE_NAME, ensure_tiny_model  # noqa: E402
from wizard.catalog import Catalog, load_catalog  # noqa: E402


def wait_until(condition: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the wizard did not get there in time")
        QApplication.processEvents()
        time.sleep(0.02)
    for _ in range(10):  # let the last layout changes paint
        QApplication.processEvents()
        time.sleep(0.02)


def main(folder: Path) -> int:
    create_application([sys.argv[0]])
    folder.mkdir(parents=True, exist_ok=True)
    model = ensure_tiny_model()
    with HubMirror() as mirror:
        mirror.add_repo(TINY_REPO, {FILE_NAME: model})
        tiny = tiny_catalog(model).entries[0]
        catalog = Catalog(load_catalog().entries + (tiny,))
        wizard = SetupWizard(services=SetupServices(catalog=lambda: catalog, endpoint=mirror.url))
        wizard.move(0, 0)
        wizard.show()
        shots = 0

        def shoot(name: str) -> None:
            nonlocal shots
            shots += 1
            target = folder / f"setup-{shots}-{name}.png"
            if not wizard.grab().save(str(target)):
                raise OSError(f"could not save {target}")
            print(target)

        def next_page() -> None:
            wizard.button(QWizard.WizardButton.NextButton).click()

        wait_until(lambda: True)
        shoot("welcome")
        next_page()
        wait_until(wizard.currentPage().isComplete)
        shoot("your-computer")
        next_page()
        wizard.currentPage().choose("everyday-assistant")
        wait_until(lambda: True)
        shoot("what-do-you-want-help-with")
        next_page()
        wait_until(lambda: True)
        shoot("your-model")
        page = wizard.currentPage()
        page.advanced.setChecked(True)
        page.choose(TINY_ID)  # the tiny test model: the real download and check below use it
        wait_until(lambda: True)
        shoot("your-model-advanced")
        mirror.trouble.bytes_per_second = 12 * 1024 * 1024  # slow enough to see it under way
        next_page()
        download = wizard.currentPage()
        wait_until(lambda: download.last_progress is not None and download.last_progress.bytes_done > 30e6)
        shoot("download")
        mirror.trouble.bytes_per_second = None
        wait_until(download.isComplete)
        next_page()
        wizard.currentPage().name_edit.setText("Sam")
        wait_until(lambda: True)
        shoot("make-it-yours")
        next_page()
        wait_until(wizard.currentPage().isComplete, timeout=300)
        shoot("check")
        next_page()
        wait_until(lambda: True)
        shoot("start-chatting")
        wizard.close()
    cancel_all_and_wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else REPO / "assets" / "screenshots")))
