"""Page 7: Check: load the model the way it will run, and show its first reply and its speed.

The engine (:class:`wizard.engine.LocalEngine`, a child process) is started, asked one
question, and stopped again, all inside one task: nothing is left running when the page
is left, the check is stopped, or the wizard closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QProgressBar, QPushButton

from app.tasks import TaskHandle, run_task
from app.ui.setup.base import SetupPage
from app.ui.setup.widgets import InlineError, scaled_font_label
from wizard.engine import GenerationParams, LoadPlan, LocalEngine
from wizard.errors import HearthError
from wizard.recipes.schema import Recipe
from wizard.recommend import speed_words

CHECK_MAX_TOKENS = 64  # one sentence; a longer reply would only make the check slower


class CheckStopped(HearthError):
    """The person stopped the check before the first reply."""

    default_hint = "Press Try again to check the model."


@dataclass(frozen=True)
class CheckResult:
    reply: str
    tokens_per_second: float | None
    completion_tokens: int


def first_question(person_name: str) -> str:
    who = f"My name is {person_name}. " if person_name else ""
    return f"Hello! {who}In one short sentence, what can you help me with?"


def check_model(model_path: Path, plan: LoadPlan, recipe: Recipe, person_name: str, *,
                progress, cancel) -> CheckResult:
    """Start the engine, stream one short reply to the recipe's greeting, stop the engine.

    Progress: ``("state", words)`` then ``("text", piece)`` for each piece of the reply.

    Raises:
        ModelFileError, EngineStartError, EngineError: the model could not be loaded or answer.
        CheckStopped: ``cancel`` was set.
    """
    engine = LocalEngine(model_path, plan)
    try:
        progress(("state", "Loading the model into memory…"))
        engine.start()
        if cancel.is_set():
            raise CheckStopped("The check was stopped.")
        progress(("state", "Waiting for its first words…"))
        messages = recipe.opening_messages() + [{"role": "user", "content": first_question(person_name)}]
        sampling = recipe.sampling
        params = GenerationParams(temperature=sampling.temperature, top_p=sampling.top_p, top_k=sampling.top_k,
                                  min_p=sampling.min_p, repeat_penalty=sampling.repeat_penalty,
                                  max_tokens=CHECK_MAX_TOKENS)
        stream = engine.stream_chat(messages, params=params, cancel=cancel)
        for piece in stream:
            progress(("text", piece))
        if cancel.is_set():
            raise CheckStopped("The check was stopped.")
        summary = stream.summary
        return CheckResult(summary.text, summary.tokens_per_second, summary.completion_tokens)
    finally:
        engine.stop()


def speed_sentence(tokens_per_second: float | None) -> str:
    if not tokens_per_second:
        return "The reply was too short to measure its speed."
    words = tokens_per_second * 0.75  # a token is about three quarters of a word
    return (f"It wrote about {words:.0f} words a second on this computer: {speed_words(tokens_per_second)}.")


class CheckPage(SetupPage):
    TITLE = "Checking that it works"
    SUBTITLE = "Hearth starts your assistant and asks it a first question."

    def build(self) -> None:
        self.status = scaled_font_label("", self)
        self.status.setAccessibleName("Check status")
        self.body.addWidget(self.status)
        row = QHBoxLayout()
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)
        self.busy.setAccessibleName("Checking")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setAccessibleName("Stop the check")
        self.stop_button.clicked.connect(self.stop_tasks)
        row.addWidget(self.busy, 1)
        row.addWidget(self.stop_button)
        self.body.addLayout(row)
        self.reply = QPlainTextEdit(self)
        self.reply.setReadOnly(True)
        self.reply.setAccessibleName("Its first reply")
        self.body.addWidget(self.reply, 1)
        self.speed = scaled_font_label("", self)
        self.speed.setAccessibleName("How fast it answered")
        self.body.addWidget(self.speed)
        self.error = InlineError(self)
        self.error.retry_requested.connect(self.start_check)
        self.body.addWidget(self.error)
        self._handle: TaskHandle | None = None
        self._checked_for: tuple | None = None
        self._generation = 0

    def _key(self) -> tuple:
        a = self.answers
        return (a.model_path, a.model.plan, a.recipe.recipe.id, a.person_name)

    def initializePage(self) -> None:  # noqa: N802 (Qt's name)
        if self._checked_for == self._key() and self.answers.check_reply:
            return  # already checked with exactly these answers
        self.start_check()

    def cleanupPage(self) -> None:  # noqa: N802 (Qt's name)
        self.stop_tasks()

    def start_check(self) -> None:
        if self.running_tasks():
            return
        a = self.answers
        a.check_reply, a.check_tokens_per_second = "", None
        self._checked_for = None
        self.error.clear()
        self.reply.clear()
        self.speed.clear()
        self._set_running(True)
        self._generation += 1
        generation = self._generation
        path, plan, recipe, name = a.model_path, a.model.plan.engine_plan(), a.recipe.recipe, a.person_name
        key = self._key()
        self._handle = self.track(run_task(
            lambda progress, cancel: check_model(path, plan, recipe, name, progress=progress, cancel=cancel),
            parent=self, name="model check",
            on_progress=lambda event: generation == self._generation and self._progress(event),
            on_success=lambda result: generation == self._generation and self._passed(result, key),
            on_error=lambda exc: generation == self._generation and self._failed(exc),
            on_finished=lambda: self._set_running(False)))

    def _progress(self, event: tuple[str, str]) -> None:
        kind, text = event
        if kind == "state":
            self.status.setText(text)
        else:
            self.reply.moveCursor(self.reply.textCursor().MoveOperation.End)
            self.reply.insertPlainText(text)

    def _passed(self, result: CheckResult, key: tuple) -> None:
        if not result.reply.strip():
            self._failed(HearthError("The model loaded but gave an empty reply.",
                                     hint="Press Try again. If it stays empty, go back and choose another model."))
            return
        self.answers.check_reply = result.reply
        self.answers.check_tokens_per_second = result.tokens_per_second
        self._checked_for = key
        self.reply.setPlainText(result.reply)
        self.status.setText("It works. This is its first reply:")
        self.speed.setText(speed_sentence(result.tokens_per_second))
        self.completeChanged.emit()

    def _failed(self, exc: BaseException) -> None:
        self.status.setText("The check did not finish.")
        self.error.show_error(exc, can_retry=True)

    def _set_running(self, running: bool) -> None:
        self.busy.setVisible(running)
        self.stop_button.setVisible(running)
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 (Qt's name)
        return bool(self.answers.check_reply) and not self.running_tasks()
