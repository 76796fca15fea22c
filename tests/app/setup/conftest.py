"""Fixtures for the setup wizard: the real tiny model served by the real local Hub mirror.

The one seam: a catalog that lists the tiny model (its header numbers read from the real
file), passed to the wizard through ``SetupServices`` with the mirror's address. Everything
else (hardware probe, recipes, download, engine, profile) is the real thing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QWizard

from app.ui.setup import SetupServices, SetupWizard
from tests.support.hub_mirror import HubMirror
from tests.support.tiny_model import FILE_NAME, SHA256, SIZE
from wizard.catalog import Catalog, CatalogEntry
from wizard.catalog.refresh import header_numbers
from wizard.gguf import read_gguf_header

TINY_REPO = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"
TINY_ID = "smollm2-135m-instruct-q4_1"
RECIPE = "everyday-assistant"


def tiny_catalog(model: Path) -> Catalog:
    """A catalog with one entry: the tiny model, described from its own header."""
    header = read_gguf_header(model)
    entry = CatalogEntry(
        id=TINY_ID, name="SmolLM2 135M (test model)", family="smollm", repo=TINY_REPO, file=FILE_NAME,
        licence="apache-2.0", parameters=134_515_008, languages=("en",), capabilities=frozenset({"chat"}),
        quality=10, quantization="Q4_1", header=header_numbers(header, entry_id=TINY_ID),
        size_bytes=SIZE, sha256=SHA256)
    return Catalog((entry,))


@pytest.fixture
def mirror(hub_mirror: HubMirror, tiny_model: Path) -> HubMirror:
    hub_mirror.add_repo(TINY_REPO, {FILE_NAME: tiny_model})
    return hub_mirror


@pytest.fixture
def services(mirror: HubMirror, tiny_model: Path) -> SetupServices:
    catalog = tiny_catalog(tiny_model)
    return SetupServices(catalog=lambda: catalog, endpoint=mirror.url)


def engine_children() -> list[psutil.Process]:
    """Engine processes started by this test process and still running."""
    found = []
    for child in psutil.Process(os.getpid()).children(recursive=True):
        try:
            if "wizard.engine.server" in " ".join(child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE:
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


@pytest.fixture
def wizard(qtbot, services: SetupServices) -> Iterator[SetupWizard]:
    wizard = SetupWizard(services=services)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    yield wizard
    assert wizard.stop_all(timeout=30)
    assert QThreadPool.globalInstance().waitForDone(30_000), "a task was still running"
    assert engine_children() == [], "an engine process was left running"


def click_next(qtbot, wizard: QWizard) -> None:
    button = wizard.button(QWizard.WizardButton.NextButton)
    assert button.isEnabled(), f"Next is disabled on {wizard.currentPage().objectName()}"
    before = wizard.currentId()
    qtbot.mouseClick(button, qtbot_left())
    assert wizard.currentId() != before


def qtbot_left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def next_enabled(wizard: QWizard) -> bool:
    return wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def walk_to_model_page(qtbot, wizard: QWizard, recipe: str = RECIPE) -> None:
    """Welcome -> Your computer (real probe) -> choose ``recipe`` -> Your model."""
    click_next(qtbot, wizard)
    qtbot.waitUntil(wizard.currentPage().isComplete, timeout=10_000)
    click_next(qtbot, wizard)
    wizard.currentPage().choose(recipe)
    click_next(qtbot, wizard)
    assert wizard.currentPage().objectName() == "model"
