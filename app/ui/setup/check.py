"""Page 7: Check: measure the model the way it will run, and show its first reply, speed and memory.

First :func:`wizard.verify.verify_model` loads it, measures its peak memory and speed, and
steps the conversation memory (context) down if it needs too much; the plan that passed is
kept with the installed model and is the one the profile is saved with. Then the engine
(:class:`wizard.engine.LocalEngine`, a child process) is started with that plan, asked one
question, and stopped again, all inside one task: nothing is left running when the page
is left, the check is stopped, or the wizard closes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QProgressBar, QPushButton

from app.tasks import TaskHandle, run_task
from app.ui.setup.base import SetupPage
from app.ui.widgets import InlineError, scaled_font_label
from wizard.errors import HearthError, StoppedByPerson

if TYPE_CHECKING:  # the engine, measuring and recommending code load when the check runs
    from wizard.engine import LoadPlan
    from wizard.fit import FitPlan
    from wizard.recipes.schema import Recipe
    from wizard.verify import Verification

log = logging.getLogger(__name__)

CHECK_MAX_TOKENS = 64  # one sentence; a longer reply would only make the check slower
MEASURING = "Measuring how much memory it needs…"


class CheckStopped(StoppedByPerson):
    """The person stopped the check before the first reply."""

    default_hint = "Press Try again to check the model."


class ModelDoesNotFitError(HearthError):
    """Measuring showed the model cannot run on this computer (or its file cannot be used)."""

    default_hint = "Go back and choose a smaller model."


@dataclass(frozen=True)
class CheckResult:
    reply: str
    tokens_per_second: float | None
    completion_tokens: int
    plan: LoadPlan | None = None  # the measured plan the reply was written with
    peak_ram_bytes: int | None = None
    stepped_down: str = ""  # plain words when the context had to be made shorter, else ""
    verification: Verification | None = None


def first_question(person_name: str) -> str:
    who = f"My name is {person_name}. " if person_name else ""
    return f"Hello! {who}In one short sentence, what can you help me with?"


def measure(model_path: Path, plan: FitPlan | LoadPlan, recipe: Recipe, *, ram_budget_bytes: int | None,
            progress, cancel) -> Verification:
    """Measure the model (:func:`wizard.verify.verify_model`) and keep the figures with it when installed.

    Raises:
        CheckStopped: ``cancel`` was set.
        ModelDoesNotFitError: the model does not fit even with the shortest context, or cannot be used.
    """
    def words(stage: str, facts: dict) -> None:
        if stage == "stepping_down":
            progress(("state", f"It needs too much memory; trying a shorter conversation memory "
                               f"({facts['to']:,} tokens)…"))
        elif stage in ("checking", "loading"):
            progress(("state", MEASURING))
        elif stage == "generating":
            progress(("state", "Measuring how fast it writes…"))

    from wizard.verify import CANCELLED, verify_model

    result = verify_model(model_path, plan, min_ctx=recipe.model.min_context, ram_budget_bytes=ram_budget_bytes,
                          progress=words, cancel=cancel)
    if result.outcome == CANCELLED or cancel.is_set():
        raise CheckStopped("The check was stopped.")
    if not result.passed:
        raise ModelDoesNotFitError(result.message, details=f"{result.outcome}: {result.attempts}")
    keep_figures(model_path, result)
    return result


def keep_figures(model_path: Path, result: Verification) -> None:
    """Store the measured figures with the installed model whose file is ``model_path``.

    A file the registry does not know (one the person picked) is skipped quietly, and so is
    a registry that cannot be read or written: the profile still gets the measured plan.
    """
    from wizard.models import ModelRegistry
    from wizard.verify import store_verification

    try:
        registry = ModelRegistry()
        wanted = Path(model_path).resolve()
        for model in registry.list():
            if model.file_in(registry.models_dir).resolve() == wanted:
                store_verification(model.id, result, registry=registry)
                return
    except HearthError as exc:
        log.warning("could not keep the measured figures of %s: %s %s", model_path, exc.user_message, exc.details)


def check_model(model_path: Path, plan: FitPlan | LoadPlan, recipe: Recipe, person_name: str, *,
                progress, cancel, ram_budget_bytes: int | None = None) -> CheckResult:
    """Measure the model, then start the engine with the plan that passed, stream one short reply
    to the recipe's greeting, and stop the engine.

    Progress: ``("state", words)`` then ``("text", piece)`` for each piece of the reply.

    Raises:
        ModelDoesNotFitError: measuring found it does not fit (or the file cannot be used).
        ModelFileError, EngineStartError, EngineError: the model could not be loaded or answer.
        CheckStopped: ``cancel`` was set.
    """
    from wizard.engine import GenerationParams, LocalEngine

    progress(("state", MEASURING))
    verification = measure(model_path, plan, recipe, ram_budget_bytes=ram_budget_bytes,
                           progress=progress, cancel=cancel)
    engine = LocalEngine(model_path, verification.plan)
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
        final = verification.final
        return CheckResult(summary.text, summary.tokens_per_second or (final.tokens_per_second if final else None),
                           summary.completion_tokens, plan=verification.plan,
                           peak_ram_bytes=final.peak_ram_bytes if final else None,
                           stepped_down=stepped_down_words(verification), verification=verification)
    finally:
        engine.stop()


def stepped_down_words(verification: Verification) -> str:
    from wizard.verify import STEPPED_DOWN

    if verification.outcome != STEPPED_DOWN or verification.plan is None:
        return ""
    return (f"To fit in this computer's memory, it will remember less of each conversation: about "
            f"{verification.plan.n_ctx:,} tokens (some {verification.plan.n_ctx * 3 // 4:,} words) "
            f"instead of {verification.attempts[0].n_ctx:,}.")


def memory_sentence(peak_ram_bytes: int | None) -> str:
    if not peak_ram_bytes:
        return ""
    gb = peak_ram_bytes / 2**30
    return f"Uses about {gb:.1f} GB of memory." if gb >= 0.1 else "Uses less than 0.1 GB of memory."


def speed_sentence(tokens_per_second: float | None) -> str:
    if not tokens_per_second:
        return "The reply was too short to measure its speed."
    from wizard.recommend import speed_words

    words = round(tokens_per_second * 0.75)  # a token is about three quarters of a word
    amount = "less than one word" if words < 1 else f"about {words} word{'s' if words != 1 else ''}"
    return f"It wrote {amount} a second on this computer: {speed_words(tokens_per_second)}."


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
        figures = QHBoxLayout()
        self.speed = scaled_font_label("", self)
        self.speed.setAccessibleName("How fast it answered")
        self.speed.setWordWrap(True)
        self.memory = scaled_font_label("", self)
        self.memory.setAccessibleName("How much memory it uses")
        figures.addWidget(self.speed, 1)
        figures.addWidget(self.memory)
        self.body.addLayout(figures)
        self.stepped_down = scaled_font_label("", self)
        self.stepped_down.setAccessibleName("Shorter conversation memory")
        self.stepped_down.setWordWrap(True)
        self.stepped_down.hide()
        self.body.addWidget(self.stepped_down)
        self.error = InlineError(self)
        self.error.retry_requested.connect(self.start_check)
        self.body.addWidget(self.error)
        self._handle: TaskHandle | None = None
        self._checked_for: tuple | None = None
        self._generation = 0
        self._start_when_free = False

    def _key(self) -> tuple:
        a = self.answers
        return (a.model_path, a.model.plan, a.recipe.recipe, a.person_name)

    def initializePage(self) -> None:  # noqa: N802 (Qt's name)
        if self._checked_for == self._key() and self.answers.check_reply:
            return  # already checked with exactly these answers
        self.start_check()

    def cleanupPage(self) -> None:  # noqa: N802 (Qt's name)
        self.stop_tasks()

    def stop_tasks(self) -> None:
        """Stop, Back, or the wizard closing: a check waiting to start again does not start either."""
        self._start_when_free = False
        super().stop_tasks()

    def start_check(self) -> None:
        a = self.answers
        a.check_reply, a.check_tokens_per_second = "", None
        a.check_plan, a.check_peak_ram_bytes = None, None
        self._checked_for = None
        self.error.clear()
        self.reply.clear()
        self.speed.clear()
        self.memory.clear()
        self.stepped_down.clear()
        self.stepped_down.hide()
        self._set_running(True)
        self._generation += 1  # what an earlier check still reports is not for these answers
        generation = self._generation
        if self.running_tasks():  # a stopped check is still winding down (its engine loading, say)
            self.stop_tasks()
            self._start_when_free = True
            self.status.setText("Getting ready…")
            return
        path, plan, recipe, name = a.model_path, a.model.plan, a.recipe.recipe, a.person_name
        from wizard.recommend import ram_budget

        budget = ram_budget(a.hardware) if a.hardware is not None else None
        key = self._key()
        self._handle = self.track(run_task(
            lambda progress, cancel: check_model(path, plan, recipe, name, progress=progress, cancel=cancel,
                                                 ram_budget_bytes=budget),
            parent=self, name="model check",
            on_progress=lambda event: generation == self._generation and self._progress(event),
            on_success=lambda result: generation == self._generation and self._passed(result, key),
            on_error=lambda exc: generation == self._generation and self._failed(exc),
            on_finished=self._task_ended))

    def _task_ended(self) -> None:
        self._set_running(False)
        if self._start_when_free:
            self._start_when_free = False
            self.start_check()
        elif not self.answers.check_reply and not self.error.isVisible():
            self._failed(CheckStopped("The check was stopped."))  # stopped while waiting to start again

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
        self.answers.check_plan = result.plan
        self.answers.check_peak_ram_bytes = result.peak_ram_bytes
        self._checked_for = key
        self.reply.setPlainText(result.reply)
        self.status.setText("It works. This is its first reply:")
        self.speed.setText(speed_sentence(result.tokens_per_second))
        self.memory.setText(memory_sentence(result.peak_ram_bytes))
        self.stepped_down.setText(result.stepped_down)
        self.stepped_down.setVisible(bool(result.stepped_down))
        self.completeChanged.emit()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, ModelDoesNotFitError):
            self.status.setText("This model does not fit on this computer.")
        else:
            self.status.setText("The check did not finish.")
        self.error.show_error(exc, can_retry=True)

    def _set_running(self, running: bool) -> None:
        self.busy.setVisible(running)
        self.stop_button.setVisible(running)
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 (Qt's name)
        return bool(self.answers.check_reply) and not self.running_tasks()
