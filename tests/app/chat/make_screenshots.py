"""Screenshot the chat window with a real short conversation, on a real X server.

    xvfb-run -a -s "-screen 0 1280x900x24" .venv/bin/python tests/app/chat/make_screenshots.py assets/screenshots

Sets up an assistant on the real tiny test model (SmolLM2-135M, temperature 0) in a
temporary HEARTH_HOME, opens the real main window, types real messages and waits for the
real answers from the engine process. Nothing reaches the internet.
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
os.environ["HEARTH_HOME"] = tempfile.mkdtemp(prefix="hearth-chat-screenshots-")
os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

from PySide6.QtWidgets import QApplication  # noqa: E402

from app.gui import create_application  # noqa: E402
from app.main_window import MainWindow  # noqa: E402
from app.tasks import cancel_all_and_wait  # noqa: E402
from app.ui.chat.runner import READY  # noqa: E402
from tests.app.chat.conftest import make_profile  # noqa: E402
from tests.support.tiny_model import ensure_tiny_model  # noqa: E402

MESSAGES = (
    "Name the capital city of France.",
    "Remember that my cat is called Tom.",
    "Write a Python function that adds two numbers.",
)


def wait_until(condition: Callable[[], bool], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the chat window did not get there in time")
        QApplication.processEvents()
        time.sleep(0.02)
    for _ in range(10):  # let the last layout changes paint
        QApplication.processEvents()
        time.sleep(0.02)


def main(folder: Path) -> int:
    create_application([sys.argv[0]])
    folder.mkdir(parents=True, exist_ok=True)
    make_profile(ensure_tiny_model(), name="Robin")
    window = MainWindow()
    window.resize(1100, 760)
    window.move(0, 0)
    window.show()
    wait_until(lambda: window.chat is not None, timeout=10)  # built right after the first paint
    chat = window.chat

    def shoot(name: str) -> None:
        target = folder / f"chat-{name}.png"
        if not window.grab().save(str(target)):
            raise OSError(f"could not save {target}")
        print(target)

    wait_until(lambda: chat.status.state.text().startswith("Getting"), timeout=10)
    shoot("1-getting-ready")
    wait_until(lambda: chat.runner.state == READY)
    for text in MESSAGES:
        chat.composer.set_text(text)
        chat.composer.send_button.click()
        wait_until(lambda: chat.runner.state == READY and not chat.runner.replying)
    chat.composer.set_text("What is a good name for a dog?")
    shoot("2-conversation")
    chat.side.setCurrentWidget(chat.memory)
    wait_until(lambda: True)
    shoot("3-memory")
    window.close()
    cancel_all_and_wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else REPO / "assets" / "screenshots")))
