"""Page 3: "What do you want help with?": the shipped recipes as cards; one must be chosen."""

from __future__ import annotations

from PySide6.QtWidgets import QButtonGroup

from app.ui.setup.base import SetupPage
from app.ui.widgets import ChoiceCard, InlineError
from wizard.errors import HearthError
from wizard.recipes import LoadedRecipe


class PurposePage(SetupPage):
    TITLE = "What do you want help with?"
    SUBTITLE = "Choose the kind of assistant you want. You can set up another one later."

    def build(self) -> None:
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.cards: list[tuple[ChoiceCard, LoadedRecipe]] = []
        self.error = InlineError(self)
        self.error.retry_requested.connect(self._load)
        self.body.addWidget(self.error)
        self._cards_at = self.body.count()
        self.body.addStretch(1)

    def initializePage(self) -> None:  # noqa: N802 (Qt's name)
        if not self.cards:
            self._load()
        checked = self.group.checkedButton()
        (checked or (self.cards[0][0].radio if self.cards else self)).setFocus()

    def _load(self) -> None:
        self.error.clear()
        try:
            recipes = self.services.recipes()
        except HearthError as exc:
            self.error.show_error(exc, can_retry=True)
            return
        for index, loaded in enumerate(recipes):
            recipe = loaded.recipe
            card = ChoiceCard(recipe.name, recipe.description, self)
            card.radio.toggled.connect(lambda on, chosen=loaded: on and self._choose(chosen))
            self.group.addButton(card.radio)
            self.body.insertWidget(self._cards_at + index, card)
            self.cards.append((card, loaded))
            if self.answers.recipe is not None and self.answers.recipe.recipe.id == recipe.id:
                card.radio.setChecked(True)

    def choose(self, recipe_id: str) -> None:
        """Choose the card of this recipe (as a click would)."""
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
