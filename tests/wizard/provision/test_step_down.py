"""Unattended provisioning steps down to a smaller file when the chosen one proves too big when run.

Real parts throughout: the local Hub mirror serves two real model files (the tiny test model
and the same model in f16, 2.3x the weights), both are really downloaded, loaded and measured
by the engine. The one thing that cannot exist here is a computer with little free memory, so
the real hardware probe's answer is given 300 MiB available.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from pathlib import Path

import pytest

import wizard.hardware
from tests.support.hub_mirror import HubMirror
from tests.support.tiny_model import FILE_NAME, SHA256, SIZE
from tests.wizard.f16_model import tiny_f16_model  # noqa: F401 - a fixture
from wizard.catalog import Catalog, CatalogEntry
from wizard.catalog.refresh import header_numbers
from wizard.catalog.write import write_catalog
from wizard.gguf import read_gguf_header
from wizard.models import ModelRegistry
from wizard.profiles import load_profile
from wizard.provision import provision
from wizard.provision.answers import load_answers
from wizard.provision.errors import ProvisionError

REPO = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"
F16_FILE = "SmolLM2-135M-Instruct.F16.gguf"
MiB = 1 << 20
BUDGET = 300 * MiB  # measured here at 2048 tokens: the f16 file peaks ~350 MiB, the q4_1 one ~210 MiB
RECIPE = ('schema_version = 1\nid = "front-desk"\nname = "Front desk"\ndescription = "Greets."\n'
          'for_whom = "A small office."\n[persona]\nsystem_prompt = "Be kind."\ngreeting = "Hi."\n'
          '[model]\nmin_context = 2048\n')


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _catalog(tiny_model: Path, f16: Path, *, with_tiny: bool = True) -> Catalog:
    tiny_header = header_numbers(read_gguf_header(tiny_model))

    def entry(entry_id: str, file: str, **facts) -> CatalogEntry:  # noqa: ANN003
        return CatalogEntry(id=entry_id, name=entry_id, family="smollm", repo=REPO, file=file, licence="apache-2.0",
                            parameters=134_515_008, languages=("en",), capabilities=frozenset({"chat"}),
                            header=tiny_header, **facts)

    # The f16 entry's size and header numbers were copied from the q4_1 file, rounded up (a
    # catalog mistake of the kind verification exists for; its sha256 is right, so the download
    # is accepted): planned on paper it fits, run for real it does not.
    assert f16.stat().st_size > 2 * SIZE
    big = entry("smollm2-f16", F16_FILE, quality=30, quantization="F16", size_bytes=100_000_000,
                sha256=_sha256(f16))
    tiny = entry("smollm2-q4_1", FILE_NAME, quality=10, quantization="Q4_1", size_bytes=SIZE, sha256=SHA256)
    return Catalog((big, tiny) if with_tiny else (big,))


@pytest.fixture
def small_computer(monkeypatch: pytest.MonkeyPatch) -> None:
    real = wizard.hardware.probe_hardware()
    small = replace(real, memory=replace(real.memory, available_bytes=BUDGET))
    monkeypatch.setattr(wizard.hardware, "probe_hardware", lambda **kwargs: small)


def _answers(tmp_path: Path, mirror: HubMirror, catalog: Catalog):  # noqa: ANN202
    write_catalog(catalog, tmp_path / "our-models.toml")
    (tmp_path / "front-desk.toml").write_text(RECIPE, encoding="utf-8")
    (tmp_path / "answers.toml").write_text(
        f'schema_version = 1\nrecipe = "front-desk.toml"\nmodel = "auto"\nmirror = "{mirror.url}"\n'
        'catalog = "our-models.toml"\n', encoding="utf-8")
    return load_answers(tmp_path / "answers.toml")


def test_a_file_too_big_when_run_gives_way_to_the_next_smaller_one(
        tmp_path: Path, hub_mirror: HubMirror, tiny_model: Path, tiny_f16_model: Path, small_computer: None,
        caplog: pytest.LogCaptureFixture) -> None:
    hub_mirror.add_repo(REPO, {FILE_NAME: tiny_model, F16_FILE: tiny_f16_model})
    answers = _answers(tmp_path, hub_mirror, _catalog(tiny_model, tiny_f16_model))
    caplog.set_level(logging.INFO, logger="wizard.provision.run")

    result = provision(answers)

    text = "\n".join(result.lines)
    order = [f"Downloading {REPO}/{F16_FILE}", "Running smollm2-f16 once",
             "Model check: smollm2-f16 is too big for this computer (it used",
             "Trying the smaller smollm2-q4_1 instead.", f"Downloading {REPO}/{FILE_NAME}",
             "Running smollm2-q4_1 once", "Model check passed", "Created the assistant"]
    positions = [text.find(words) for words in order]
    assert -1 not in positions and positions == sorted(positions), text
    assert "Model check: smollm2-f16 is too big" in caplog.text  # every step is logged as shown

    profile = load_profile("front-desk")
    assert profile.setup["catalog_id"] == "smollm2-q4_1" and profile.model_path.name == FILE_NAME
    assert "smollm2-f16 was Hearth's first choice but proved too big" in profile.setup["model_reason"]
    assert profile.load_plan.n_ctx >= 2048

    # What was measured is kept with both installed models.
    models = {m.source.filename: m for m in ModelRegistry().list()}
    big, small = models[F16_FILE].fit, models[FILE_NAME].fit
    assert big["outcome"] == "needs_smaller_file" and big["plan"] is None
    assert [a["n_ctx"] for a in big["attempts"]][-1] == 2048  # it was tried down to the recipe's minimum
    assert all(a["peak_ram_bytes"] > BUDGET for a in big["attempts"])
    assert small["outcome"] in ("ok", "stepped_down") and small["peak_ram_bytes"] <= BUDGET
    assert small["plan"]["n_ctx"] == profile.load_plan.n_ctx

    again = provision(answers)  # the same answers again: the smaller model is kept, nothing is re-run
    assert not again.changed and "Running" not in "\n".join(again.lines)


def test_without_a_smaller_model_the_check_fails_plainly_and_nothing_is_set_up(
        tmp_path: Path, hub_mirror: HubMirror, tiny_model: Path, tiny_f16_model: Path,
        small_computer: None) -> None:
    hub_mirror.add_repo(REPO, {FILE_NAME: tiny_model, F16_FILE: tiny_f16_model})
    answers = _answers(tmp_path, hub_mirror, _catalog(tiny_model, tiny_f16_model, with_tiny=False))

    with pytest.raises(ProvisionError) as caught:
        provision(answers)

    assert caught.value.user_message.startswith("The model check failed: This model is too big")
    assert "smaller model file is needed" in caught.value.user_message
    with pytest.raises(Exception, match="front-desk"):
        load_profile("front-desk")
