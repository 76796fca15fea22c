"""``hearth provision`` as a consultant runs it: real processes, the real tiny model, a real pack and mirror."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.hub_mirror import HubMirror
from tests.support.tiny_model import FILE_NAME, SHA256, SIZE
from wizard.paths import hearth_paths

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY_REPO, TINY_ID = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "smollm2-135m-instruct-q4_1"


def hearth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO_ROOT, env=dict(os.environ),
                          text=True, capture_output=True, timeout=300)


def profiles() -> list[str]:
    root = hearth_paths().data / "profiles"
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


def files_of(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


@pytest.fixture
def pack(tmp_path: Path, tiny_model: Path) -> Path:
    """A model pack on a "USB stick", made by `hearth pack export`'s code on another computer's registry."""
    from wizard.models import ModelRegistry, register_file
    from wizard.models.records import ModelSource
    from wizard.packs import export_pack

    other = tmp_path / "consultant-laptop"
    registry = ModelRegistry(file=other / "installed-models.json", models_dir=other / "models")
    copy = other / "models" / "HuggingFaceTB--SmolLM2-135M-Instruct-GGUF" / FILE_NAME
    copy.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, copy)
    register_file(copy, source=ModelSource(kind="hub", repo=TINY_REPO, filename=FILE_NAME, revision="main"),
                  sha256=SHA256, registry=registry, licence="apache-2.0")
    stick = tmp_path / "usb" / "pack"
    export_pack(stick, registry=registry)
    return stick


def answers(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "answers.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_offline_from_a_model_pack_then_a_rerun_changes_nothing(tmp_path: Path, pack: Path) -> None:
    file = answers(tmp_path, f'schema_version = 1\nrecipe = "everyday-assistant"\nmodel = "auto"\n'
                             f'person_name = "Ada"\nmodel_pack = "{pack}"\n')
    dry = hearth("provision", str(file), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "to be copied and checked from the model pack" in dry.stderr
    assert 'Create the assistant "Everyday assistant"' in dry.stderr
    assert profiles() == [] and not (hearth_paths().models).exists()  # a dry run writes nothing

    done = hearth("provision", str(file))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for words in ("This computer:", "Copying the model pack", "Model check passed", "Created the assistant"):
        assert words in done.stderr
    from wizard.profiles import load_profile

    profile = load_profile("everyday-assistant")
    assert profile.person_name == "Ada" and profile.local_api is False
    assert profile.model_path.is_relative_to(hearth_paths().models) and profile.model_path.stat().st_size == SIZE
    assert profile.load_plan.n_ctx >= 4096
    assert "model pack" in profile.setup["model_reason"]
    report = (profile.folder / "handover-report.html").read_text(encoding="utf-8")
    assert "Ada" in report and "tokens a second" in report and str(pack) in report
    log = hearth_paths().log_file.read_text(encoding="utf-8")
    assert "provision: Model check passed" in log  # every step is in the log too

    before = files_of(profile.folder)
    again = hearth("provision", str(file))
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("Nothing to change")
    assert "already installed" in again.stderr and "Model check passed" not in again.stderr
    assert files_of(profile.folder) == before
    assert profiles() == ["everyday-assistant"]


def test_auto_downloads_from_the_mirror(tmp_path: Path, hub_mirror: HubMirror, tiny_model: Path) -> None:
    from tests.app.setup.conftest import tiny_catalog
    from wizard.catalog.write import write_catalog

    hub_mirror.add_repo(TINY_REPO, {FILE_NAME: tiny_model})
    catalog = write_catalog(tiny_catalog(tiny_model), tmp_path / "our-models.toml")
    recipe = tmp_path / "front-desk.toml"
    recipe.write_text('schema_version = 1\nid = "front-desk"\nname = "Front desk"\ndescription = "Greets."\n'
                      'for_whom = "A small office."\n[persona]\nsystem_prompt = "Be kind."\ngreeting = "Hi."\n'
                      '[local_api]\noffered = true\n', encoding="utf-8")
    file = answers(tmp_path, f'schema_version = 1\nrecipe = "front-desk.toml"\nmodel = "auto"\n'
                             f'mirror = "{hub_mirror.url}"\ncatalog = "our-models.toml"\nlocal_api = true\n'
                             'verify = false\n')
    done = hearth("provision", str(file))
    assert done.returncode == 0, done.stderr
    assert f"Downloading {TINY_REPO}/{FILE_NAME} from {hub_mirror.url}" in done.stderr
    from wizard.profiles import load_profile

    profile = load_profile("front-desk")
    assert profile.local_api is True and profile.setup["catalog_id"] == TINY_ID
    assert profile.model_path.read_bytes()[:4] == b"GGUF"
    report = (profile.folder / "handover-report.html").read_text(encoding="utf-8")
    assert "mirror " + hub_mirror.url in report and "<b>on</b>" in report
    assert hearth("provision", str(file)).stdout.startswith("Nothing to change")
    assert catalog.is_file()


def test_a_bad_answer_file_lists_every_problem_and_sets_up_nothing(tmp_path: Path) -> None:
    file = answers(tmp_path, 'schema_version = 1\nrecipe = "everyday-assistant"\nmodel = 7\n'
                             'colour = "blue"\nlocal_api = "yes"\n')
    done = hearth("provision", str(file))
    assert done.returncode == 1
    assert "answers.toml:3: model: expected text in quotes, found 7" in done.stderr
    assert "answers.toml:4: colour: Hearth does not know this setting" in done.stderr
    assert "answers.toml:5: local_api: expected true or false" in done.stderr
    assert "Error: The answer file \"answers.toml\" has 3 problems" in done.stderr
    assert "Traceback" not in done.stderr and profiles() == []


def test_a_missing_pack_is_a_plain_error_and_no_profile(tmp_path: Path) -> None:
    file = answers(tmp_path, 'schema_version = 1\nrecipe = "everyday-assistant"\nmodel_pack = "no-such-stick"\n')
    done = hearth("provision", str(file))
    assert done.returncode == 1 and done.stderr.count("Error:") == 1
    assert "Traceback" not in done.stderr and profiles() == []


def test_a_failing_download_leaves_no_profile(tmp_path: Path, hub_mirror: HubMirror, tiny_model: Path) -> None:
    from tests.app.setup.conftest import tiny_catalog
    from wizard.catalog.write import write_catalog

    hub_mirror.add_repo(TINY_REPO, {FILE_NAME: tiny_model})
    write_catalog(tiny_catalog(tiny_model), tmp_path / "our-models.toml")
    hub_mirror.trouble.corrupt_at = 1_000_000  # every response carries one wrong byte
    file = answers(tmp_path, f'schema_version = 1\nrecipe = "everyday-assistant"\nmodel = "{TINY_ID}"\n'
                             f'mirror = "{hub_mirror.url}"\ncatalog = "our-models.toml"\n')
    done = hearth("provision", str(file))
    assert done.returncode == 1, done.stdout
    assert done.stderr.count("Error:") == 1 and "Traceback" not in done.stderr
    assert profiles() == []


def test_a_folder_the_recipe_does_not_ask_for_is_refused(tmp_path: Path, pack: Path) -> None:
    file = answers(tmp_path, f'schema_version = 1\nrecipe = "private-document-helper"\nfolders = ["~/Secret"]\n'
                             f'model_pack = "{pack}"\n')
    done = hearth("provision", str(file), "--dry-run")
    assert done.returncode == 1
    assert 'Error: The folder "~/Secret" in the answer file is not one the recipe' in done.stderr
    assert profiles() == []
