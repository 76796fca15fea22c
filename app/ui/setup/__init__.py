"""The first-run setup wizard: a person who has never seen a terminal finishes it alone.

``SetupWizard`` (in ``wizard.py``) lists its pages in ``PAGES``; each page is its own
module. ``state.py`` holds the answers the pages share and the seams tests use
(``SetupServices``: which catalog, which download server, which models folder).

The names below are imported on first use (module ``__getattr__``): importing
``app.ui.setup.anything`` runs this file, and the main window must not pay for the
wizard's pages (catalog, hardware probe, download code) before it is drawn.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.ui.setup.state import SetupAnswers, SetupServices, has_completed_profile
    from app.ui.setup.wizard import SetupWizard

_WHERE = {
    "SetupAnswers": "app.ui.setup.state",
    "SetupServices": "app.ui.setup.state",
    "has_completed_profile": "app.ui.setup.state",
    "SetupWizard": "app.ui.setup.wizard",
}

__all__ = ["SetupAnswers", "SetupServices", "SetupWizard", "has_completed_profile"]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # once is enough
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
