"""Hearth's core: everything that is not a window.

Nothing in this package may import PySide6; ``tests/wizard/test_qt_free.py`` checks it.
"""

import os

__version__ = "0.1.0"

# Nothing leaves the computer unless the person asks. With telemetry on, huggingface_hub
# (2.x) builds every request's user agent by fetching an "agent harnesses" list from
# huggingface.co, even when Hearth downloads from a mirror. It reads this once, at import,
# and every module that imports huggingface_hub imports this package first.
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
