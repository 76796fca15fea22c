"""Page 3: "What do you want help with?": the recipes as cards; one must be chosen.

The shipped recipes come first, then those added on this computer (from a model pack,
say), each marked so. An added file that cannot be used is left out and the page says so
in one sentence (the reasons are behind "Show details"). The cards are read again each
time the page is shown, so a pack installed on the model page is offered after Back.
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtWidgets import QButtonGroup, QFrame, QScrollArea, QVBoxLayout, QWidget

from app.ui.setup.base import SetupPage
from app.ui.widgets import ChoiceCard, InlineError
from wizard.errors import HearthError
from wizard.recipes import AvailableRecipes, LoadedRecipe

ADDED_HINT = "Added on this computer"


def _same_choice(loaded: LoadedRecipe, chosen: LoadedRecipe | None) -> bool:
    return (chosen is not None and loaded.recipe.id == chosen.recipe.id
            and loaded.recipe.source == chosen.recipe.source)


class PurposePage(SetupPage):
    TITLE = "What do you want help with?"
    SUBTITLE = "Choose the kind of assistant you want. You can set up another one later."

    def build(self) -> None:
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.cards: list[tuple[ChoiceCard, LoadedRecipe]] = []
        self._offered: list[tuple[LoadedRecipe, bool]] = []  # (recipe, added on this computer)
        self._watching = False
        self._just_loaded = False
        self.error = InlineError(self)
        self.error.retry_requested.connect(self._load)
        self.body.addWidget(self.error)

        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)  # the cards have their own frames
        self.scroll.setAccessibleName("Kinds of assistant")
        self.list_widget = QWidget(self.scroll)
        self.list_layout = QVBoxLayout(self.list_widget)
        self.list_layout.addStretch(1)
        self.scroll.setWidget(self.list_widget)
        self.body.addWidget(self.scroll, 1)

        self.left_out = InlineError(self, retry_text="Look again", name="Recipes that were left out")
        self.left_out.retry_requested.connect(self._load)
        self.body.addWidget(self.left_out)

    def initializePage(self) -> None:  # noqa: N802 (Qt's name)
        self._load()
        self._just_loaded = True  # QWizard emits currentIdChanged right after: no second read for it
        if not self._watching:  # Back does not call initializePage: read them again when shown that way too
            self.wizard().currentIdChanged.connect(self._shown)
            self._watching = True
        checked = self.group.checkedButton()
        (checked or (self.cards[0][0].radio if self.cards else self)).setFocus()

    def _shown(self, _page_id: int) -> None:
        just_loaded, self._just_loaded = self._just_loaded, False
        wizard = self.wizard()
        if wizard is not None and wizard.currentPage() is self and not just_loaded:
            self._load()

    def _load(self) -> None:
        self.error.clear()
        try:
            found = self.services.recipes()
        except HearthError as exc:
            self.error.show_error(exc, can_retry=True)
            return
        offered = [(loaded, found.is_added(loaded)) for loaded in found.all]
        if offered != self._offered:
            self._show_cards(offered)
        self._note_left_out(found)

    def _show_cards(self, offered: list[tuple[LoadedRecipe, bool]]) -> None:
        """Replace the cards, keeping the recipe chosen (when it is still offered)."""
        chosen = self.answers.recipe
        for card, _ in self.cards:
            self.group.removeButton(card.radio)
            card.deleteLater()
        self.cards = []
        self._offered = offered
        names = Counter(loaded.recipe.name for loaded, _ in offered)
        for index, (loaded, added) in enumerate(offered):
            card = self._card(loaded, added, name_taken=names[loaded.recipe.name] > 1)
            self.list_layout.insertWidget(index, card)
            self.cards.append((card, loaded))
        match = next((card for card, loaded in self.cards if _same_choice(loaded, chosen)), None)
        if match is not None:
            match.radio.setChecked(True)
        elif chosen is not None:  # its file went away
            self.answers.recipe = None
        self.completeChanged.emit()

    def _card(self, loaded: LoadedRecipe, added: bool, *, name_taken: bool) -> ChoiceCard:
        recipe = loaded.recipe
        badge = ""
        if added:
            file_name = recipe.source.name if recipe.source is not None else ""
            badge = f"{ADDED_HINT} ({file_name})" if name_taken and file_name else ADDED_HINT
        card = ChoiceCard(recipe.name, recipe.description, self.list_widget, badge=badge)
        if added:
            card.badge.setAccessibleName(ADDED_HINT)
            card.badge.setToolTip("This kind of assistant does not come with Hearth: it was added on this "
                                  f"computer, for example from a model pack.\n{recipe.source or ''}".strip())
            card.radio.setAccessibleDescription(f"{recipe.description} {ADDED_HINT}, for example from a model pack.")
        card.radio.toggled.connect(lambda on, chosen=loaded: on and self._choose(chosen))
        self.group.addButton(card.radio)
        return card

    def _note_left_out(self, found: AvailableRecipes) -> None:
        problem, unusable = found.folder_problem, found.unusable
        if problem is not None:
            self.left_out.show_text(problem.message, problem.hint,
                                    "\n".join(filter(None, [str(problem.path), problem.details])), can_retry=True)
            return
        if not unusable:
            self.left_out.clear()
            return
        if len(unusable) == 1:
            message = (f"One recipe added on this computer (“{unusable[0].path.name}”) cannot be used, "
                       "so it is not shown.")
        else:
            message = f"{len(unusable)} recipes added on this computer cannot be used, so they are not shown."
        details = "\n\n".join("\n".join(filter(None, [str(item.path), item.reason, item.details]))
                              for item in unusable)
        self.left_out.show_text(message, "You can choose any of the others. The details say what is wrong "
                                "with each file.", details, can_retry=True)

    def choose(self, recipe_id: str) -> None:
        """Choose the card of this recipe (as a click would; the first one, when two share the id)."""
        for card, loaded in self.cards:
            if loaded.recipe.id == recipe_id:
                card.radio.setChecked(True)
                return
        raise KeyError(recipe_id)

    def _choose(self, loaded: LoadedRecipe) -> None:
        self.answers.recipe = loaded
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 (Qt's name)
        return self.answers.recipe is not None
