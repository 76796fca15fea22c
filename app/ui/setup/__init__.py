"""The first-run setup wizard: a person who has never seen a terminal finishes it alone.

``SetupWizard`` (in ``wizard.py``) lists its pages in ``PAGES``; each page is its own
module. ``state.py`` holds the answers the pages share and the seams tests use
(``SetupServices``: which catalog, which download server, which models folder).
"""

from app.ui.setup.state import SetupAnswers, SetupServices, has_completed_profile
from app.ui.setup.wizard import SetupWizard

__all__ = ["SetupAnswers", "SetupServices", "SetupWizard", "has_completed_profile"]
