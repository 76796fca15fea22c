"""Page 4: "Your model": the recommendation chosen already, with its reason and expected speed.

Other models carry a fit badge ("runs comfortably", "runs, but tight", "too big"); the
"Show technical details" switch reveals size, conversation length, file and quantization.
"I already have a model file" and "I have a model pack" are for computers without internet.
When a pack also installs recipes, a note says so: the purpose page offers them after Back.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.tasks import run_task
from app.ui.setup.base import SetupPage
from app.ui.setup.state import ModelChoice
from app.ui.widgets import ChoiceCard, InlineError, plain_bytes, scaled_font_label
from wizard.errors import HearthError

if TYPE_CHECKING:  # wizard.recommend (fit, catalog ranking) loads when the page is first shown
    from app.ui.setup.model_choice import PackChoice
    from wizard.packs import PackRecipe
    from wizard.recipes import LoadedRecipe
    from wizard.recommend import Recommendation

PACKS_AVAILABLE = importlib.util.find_spec("wizard.packs") is not None


def _details(rec: Recommendation) -> str:
    entry, plan = rec.entry, rec.plan
    size = plain_bytes(entry.size_bytes) if entry.size_bytes else "unknown"
    return (f"Download size: {size} · Conversation length: {plan.n_ctx} tokens · "
            f"Quantization: {entry.quantization} · File: {entry.file} · From: {entry.repo}")


class ModelPage(SetupPage):
    TITLE = "Your model"
    SUBTITLE = "This is the AI model Hearth suggests for this computer. You can choose another."

    def build(self) -> None:
        self.error = InlineError(self)
        self.error.retry_requested.connect(self.initializePage)
        self.body.addWidget(self.error)

        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setAccessibleName("Models that can run here")
        self.list_widget = QWidget(self.scroll)
        self.list_layout = QVBoxLayout(self.list_widget)
        self.scroll.setWidget(self.list_widget)
        self.body.addWidget(self.scroll, 1)
        self.group = QButtonGroup(self)
        self.cards: dict[str, tuple[ChoiceCard, QLabel, Recommendation]] = {}

        self.advanced = QCheckBox("Show technical details (Advanced)", self)
        self.advanced.setAccessibleName("Show technical details")
        self.advanced.toggled.connect(self._show_details)
        self.body.addWidget(self.advanced)

        self._local_choice: ModelChoice | None = None
        self.local_card = ChoiceCard("Your own model file", "", self)
        self.group.addButton(self.local_card.radio)
        self.local_card.radio.toggled.connect(self._local_toggled)
        self.local_card.setVisible(False)
        self.body.addWidget(self.local_card)
        self._pack_recipes: tuple[PackRecipe, ...] = ()
        self.pack_note = scaled_font_label("", self)
        self.pack_note.setAccessibleName("Assistants from the model pack")
        self.pack_note.setVisible(False)
        self.body.addWidget(self.pack_note)

        row = QHBoxLayout()
        self.file_button = QPushButton("I already have a model file…", self)
        self.file_button.setAccessibleName("I already have a model file")
        self.file_button.clicked.connect(self._pick_file)
        row.addWidget(self.file_button)
        self.pack_button = QPushButton("I have a model pack…", self)
        self.pack_button.setAccessibleName("I have a model pack")
        self.pack_button.clicked.connect(self._pick_pack)
        self.pack_button.setVisible(PACKS_AVAILABLE)
        row.addWidget(self.pack_button)
        row.addStretch(1)
        self.body.addLayout(row)
        if not PACKS_AVAILABLE:
            self.body.addWidget(scaled_font_label("Installing from a model pack is not part of this "
                                                  "version of Hearth.", self))

        busy_row = QHBoxLayout()
        self.busy = QProgressBar(self)
        self.busy.setAccessibleName("Checking the model file")
        self.busy_cancel = QPushButton("Cancel", self)
        self.busy_cancel.setAccessibleName("Cancel checking the model file")
        self.busy_cancel.clicked.connect(self.stop_tasks)
        busy_row.addWidget(self.busy, 1)
        busy_row.addWidget(self.busy_cancel)
        self.body.addLayout(busy_row)
        self._set_busy(False)

    # ---- the catalog's models --------------------------------------------------------
    def initializePage(self) -> None:  # noqa: N802 (Qt's name)
        from wizard.recommend import recommend

        self.error.clear()
        for card, _, _ in self.cards.values():
            self.group.removeButton(card.radio)
            card.deleteLater()
        self.cards.clear()
        self._show_pack_note()  # the assistant chosen may have changed since
        answers = self.answers
        try:
            ranked = recommend(answers.hardware, self.services.catalog(), answers.recipe.recipe.model)
        except HearthError as exc:
            self.error.show_error(exc, can_retry=True)
            return
        for rec in ranked.options:
            self._add_card(rec, recommended=rec is ranked.best)
        self._show_details(self.advanced.isChecked())
        chosen = answers.model
        if chosen is not None and chosen.local_path is not None:
            self.local_card.radio.setChecked(True)
        elif chosen is not None and chosen.entry is not None and chosen.entry.id in self.cards \
                and self.cards[chosen.entry.id][2].fits:
            self.cards[chosen.entry.id][0].radio.setChecked(True)
        elif ranked.best is not None:
            self.cards[ranked.best.entry.id][0].radio.setChecked(True)
        else:
            answers.model = None
            self.error.show_text("None of Hearth's models fits this computer for this assistant.",
                                 "If you have a smaller model file, choose it with “I already have a "
                                 "model file”, or choose another kind of assistant.")
        self.completeChanged.emit()

    def _add_card(self, rec: Recommendation, *, recommended: bool) -> None:
        badge = ("Recommended · " if recommended else "") + rec.verdict
        description = f"{rec.reason} Expected speed: {rec.speed}."
        card = ChoiceCard(rec.entry.name, description, self.list_widget, badge=badge)
        card.radio.setEnabled(rec.fits)
        details = QLabel(_details(rec), card)
        details.setWordWrap(True)
        details.setAccessibleName(f"Technical details of {rec.entry.name}")
        card.layout().addWidget(details)
        card.radio.toggled.connect(lambda on, chosen=rec: on and self._choose_recommendation(chosen))
        self.group.addButton(card.radio)
        self.list_layout.insertWidget(len(self.cards), card)
        self.cards[rec.entry.id] = (card, details, rec)

    def choose(self, entry_id: str) -> None:
        """Choose the card of this catalog model (as a click would)."""
        self.cards[entry_id][0].radio.setChecked(True)

    def _choose_recommendation(self, rec: Recommendation) -> None:
        previous = self.answers.model
        if previous is None or previous.entry is None or previous.entry.id != rec.entry.id:
            self.answers.model_path = None  # another file: it has to be downloaded
        self.answers.model = ModelChoice(name=rec.entry.name, plan=rec.plan, entry=rec.entry)
        self.completeChanged.emit()

    def _show_details(self, shown: bool) -> None:
        for _, details, _ in self.cards.values():
            details.setVisible(shown)

    # ---- a file or a pack the person already has -------------------------------------
    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose your model file", str(Path.home()),
                                              "AI model files (*.gguf);;All files (*)")
        if path:
            self.accept_model_file(Path(path))

    def _pick_pack(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose the model pack folder", str(Path.home()))
        if folder:
            self.accept_model_pack(Path(folder))

    def accept_model_file(self, path: Path) -> None:
        """Check ``path`` (off the UI thread) and use it when it is a sound model that fits."""
        from app.ui.setup.model_choice import plan_model_file

        profile, needs = self.answers.hardware, self.answers.recipe.recipe.model
        self._start_local(lambda progress, cancel: plan_model_file(path, profile, needs),
                          "Checking the model file…")

    def accept_model_pack(self, folder: Path) -> None:
        """Install the pack in ``folder`` (verified, off the UI thread) and use its model."""
        from app.ui.setup.model_choice import choose_from_pack

        profile, needs, models_dir = self.answers.hardware, self.answers.recipe.recipe.model, self.services.models_dir
        self._start_local(lambda progress, cancel: choose_from_pack(folder, profile, needs, models_dir=models_dir,
                                                                    progress=progress, cancel=cancel),
                          "Copying and checking the model pack…", on_success=self._pack_accepted)

    def _start_local(self, work, label: str, *, on_success=None) -> None:
        if self.running_tasks():
            return
        self.error.clear()
        self._set_busy(True, label)
        self.track(run_task(work, parent=self, name="model file check", on_progress=self._local_progress,
                            on_success=on_success or self._local_accepted, on_error=self._local_refused,
                            on_finished=self._local_finished))

    def _pack_accepted(self, chosen: PackChoice) -> None:
        self._pack_recipes = chosen.recipes
        self._local_accepted(chosen.model)
        self._show_pack_note()

    def _show_pack_note(self) -> None:
        """Name the assistants the pack installed that the purpose page offers (other than the one chosen)."""
        current = self.answers.recipe.recipe.source if self.answers.recipe is not None else None
        names = list(dict.fromkeys(loaded.recipe.name for loaded in self._offered_from_pack()
                                   if loaded.recipe.source != current))
        if not names:
            self.pack_note.clear()
            self.pack_note.setVisible(False)
            return
        quoted = [f"“{name}”" for name in names]
        if len(quoted) == 1:
            text = f"This model pack also brought the assistant {quoted[0]}. Go back to choose it."
        else:
            listed = ", ".join(quoted[:-1]) + f" and {quoted[-1]}"
            text = f"This model pack also brought the assistants {listed}. Go back to choose one of them."
        self.pack_note.setText(text)
        self.pack_note.setVisible(True)

    def _offered_from_pack(self) -> list[LoadedRecipe]:
        """The pack's recipes the purpose page shows as cards (not a copy of a shipped one, nor a broken file)."""
        if not self._pack_recipes:
            return []
        try:
            added = self.services.recipes().added
        except HearthError:  # a shipped recipe is broken: the purpose page says so
            return []
        installed = {recipe.path for recipe in self._pack_recipes}
        return [loaded for loaded in added if loaded.recipe.source in installed]

    def _local_finished(self) -> None:
        self._set_busy(False)
        self.completeChanged.emit()

    def _local_progress(self, event: object) -> None:
        fraction = getattr(event, "fraction", None)
        if fraction is not None:
            self.busy.setRange(0, 1000)
            self.busy.setValue(int(fraction * 1000))

    def _local_accepted(self, choice: ModelChoice) -> None:
        self._local_choice = choice
        self.answers.model = choice
        self.answers.model_path = choice.local_path
        self.local_card.radio.setText(f"Your own model file: {choice.name}")
        self.local_card.radio.setAccessibleName("Your own model file")
        self.local_card.description.setText(f"{choice.local_path}\n{choice.plan.reason}")
        self.local_card.description.setVisible(True)
        self.local_card.setVisible(True)
        self.local_card.radio.setChecked(True)
        self.completeChanged.emit()

    def _local_refused(self, exc: BaseException) -> None:
        self.error.show_error(exc)

    def _local_toggled(self, on: bool) -> None:
        if on and self._local_choice is not None:
            self.answers.model = self._local_choice
            self.answers.model_path = self._local_choice.local_path
            self.completeChanged.emit()

    def _set_busy(self, busy: bool, label: str = "") -> None:
        self.busy.setVisible(busy)
        self.busy_cancel.setVisible(busy)
        self.busy.setRange(0, 0)
        self.busy.setFormat(label)
        self.file_button.setEnabled(not busy)
        self.pack_button.setEnabled(not busy)

    def isComplete(self) -> bool:  # noqa: N802 (Qt's name)
        return self.answers.model is not None and not self.running_tasks()

    def nextId(self) -> int:  # noqa: N802 (Qt's name)
        """Skip the download page when the model is already on this computer."""
        wizard = self.wizard()
        if self.answers.model is not None and not self.answers.model.needs_download:
            return wizard.page_id("personalise")
        return super().nextId()
