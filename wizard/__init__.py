"""Hearth's core: everything that is not a window.

Nothing in this package may import PySide6; ``tests/wizard/test_qt_free.py`` checks it.
"""

__version__ = "0.1.0"
