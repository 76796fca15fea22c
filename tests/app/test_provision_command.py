"""``hearth provision`` as a consultant runs it: real processes, the real tiny model, a real pack and mirror."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.app.provision_support import answers, files_of, hearth, profiles
from tests.support.hub_mirror import HubMirror
from tests.support.tiny_model import FILE_NAME, SHA256, SIZE
from wizard.paths import hearth_paths

TINY_REPO, TINY_ID = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "smollm2-135m-instruct-q4_1"


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
                             f'mirror = "{hub_mirror.url}"\ncatalog = "our-models.toml"\nverify = false\n')
    done = hearth("provision", str(file))
    assert done.returncode == 0, done.stderr
    assert f"Downloading {TINY_REPO}/{FILE_NAME} from {hub_mirror.url}" in done.stderr
    from wizard.profiles import load_profile

    profile = load_profile("front-desk")
    assert profile.local_api is False and profile.setup["catalog_id"] == TINY_ID
    assert profile.setup["model_reason"].startswith("the best model in Hearth's list for this computer")
    assert profile.model_path.read_bytes()[:4] == b"GGUF"
    report = (profile.folder / "handover-report.html").read_text(encoding="utf-8")
    assert "mirror " + hub_mirror.url in report and "Local API for other apps: <b>off</b>" in report
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


PAPERS = '''schema_version = 1
id = "papers"
name = "Papers"
description = "Searches papers."
for_whom = "Tests."
[persona]
system_prompt = "Be brief."
greeting = "Hi."
[documents]
folders = ["~/Papers", "~/Private"]
[[tools]]
name = "documents_search"
[[tools]]
name = "read_file"
read_folders = ["~/Papers"]
'''


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    for name in ("Papers", "Private", "Documents"):
        (home / name).mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home


def bare_model(tmp_path: Path, tiny_model: Path) -> Path:
    """A sound GGUF file whose chat template was taken out: the engine refuses it, so its check fails."""
    from tests.wizard.engine.gguf_edit import rewrite_gguf

    bare = tmp_path / "bare.gguf"
    rewrite_gguf(tiny_model, bare, key="tokenizer.chat_template", new_key="tokenizer.removed_template")
    return bare


def test_only_the_folders_in_the_answer_file_are_granted(tmp_path: Path, tiny_model: Path, user_home: Path) -> None:
    (tmp_path / "papers.toml").write_text(PAPERS, encoding="utf-8")
    file = answers(tmp_path, f'schema_version = 1\nrecipe = "papers.toml"\nmodel = "{tiny_model}"\n'
                             'folders = ["~/Papers"]\nverify = false\n')
    done = hearth("provision", str(file))
    assert done.returncode == 0, done.stderr
    private = str(user_home / "Private")
    assert f"Folder not granted (left out of the answer file): {private}" in done.stderr
    from wizard.profiles import load_profile

    profile = load_profile("papers")
    assert profile.setup["folders_refused"] == [private]
    assert [str(f.path) for f in profile.recipe.document_folders] == [str(user_home / "Papers")]
    assert ("documents", private) not in profile.permissions
    assert ("documents", str(user_home / "Papers")) in profile.permissions
    report = (profile.folder / "handover-report.html").read_text(encoding="utf-8")
    assert f"were <b>not</b> granted:</p><ul><li><code>{private}</code>" in report


def test_a_catalog_id_is_downloaded_from_the_mirror(tmp_path: Path, hub_mirror: HubMirror, tiny_model: Path) -> None:
    from tests.app.setup.conftest import tiny_catalog
    from wizard.catalog.write import write_catalog

    hub_mirror.add_repo(TINY_REPO, {FILE_NAME: tiny_model})
    write_catalog(tiny_catalog(tiny_model), tmp_path / "our-models.toml")
    file = answers(tmp_path, f'schema_version = 1\nrecipe = "study-buddy"\nmodel = "{TINY_ID}"\n'
                             f'mirror = "{hub_mirror.url}"\ncatalog = "our-models.toml"\nverify = false\n')
    done = hearth("provision", str(file))
    assert done.returncode == 0, done.stderr
    assert f"Downloaded and verified {FILE_NAME}" in done.stderr
    from wizard.profiles import load_profile

    profile = load_profile("study-buddy")
    assert profile.setup["catalog_id"] == TINY_ID and profile.model_name == "SmolLM2 135M (test model)"
    assert profile.setup["model_reason"].startswith("the answer file names it; it runs")
    assert profile.model_path.is_relative_to(hearth_paths().models) and profile.model_path.stat().st_size == SIZE


def test_a_gguf_file_named_in_the_answer_file_is_used_where_it_is(tmp_path: Path, tiny_model: Path) -> None:
    local = tmp_path / "models" / "mine.gguf"
    local.parent.mkdir()
    shutil.copyfile(tiny_model, local)
    file = answers(tmp_path, 'schema_version = 1\nrecipe = "writing-desk"\nmodel = "models/mine.gguf"\n'
                             'person_name = "Bo"\nverify = false\n')
    done = hearth("provision", str(file))
    assert done.returncode == 0, done.stderr
    assert f"Added the model file {local} to Hearth's installed models" in done.stderr
    from wizard.models import ModelRegistry
    from wizard.profiles import load_profile

    profile = load_profile("writing-desk")
    assert profile.model_path == local and profile.person_name == "Bo"
    assert profile.setup["model_reason"] == "the answer file names this model file"
    assert ModelRegistry().get(profile.setup["model_id"]).file_in(hearth_paths().models) == local


def test_a_failed_model_check_leaves_no_profile(tmp_path: Path, tiny_model: Path) -> None:
    bare = bare_model(tmp_path, tiny_model)
    file = answers(tmp_path, f'schema_version = 1\nrecipe = "study-buddy"\nmodel = "{bare}"\n')
    done = hearth("provision", str(file))
    assert done.returncode == 1, done.stderr
    assert "Error: The model check failed:" in done.stderr and "Traceback" not in done.stderr
    assert "Running " in done.stderr  # it was really run, and refused
    assert profiles() == []


def test_a_failure_while_provisioning_again_keeps_the_old_profile(tmp_path: Path, tiny_model: Path) -> None:
    file = answers(tmp_path, f'schema_version = 1\nrecipe = "study-buddy"\nmodel = "{tiny_model}"\n'
                             'person_name = "Ada"\nverify = false\n')
    assert hearth("provision", str(file)).returncode == 0
    folder = hearth_paths().data / "profiles" / "study-buddy"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    bare = bare_model(tmp_path, tiny_model)
    file.write_text(f'schema_version = 1\nrecipe = "study-buddy"\nmodel = "{bare}"\nperson_name = "Eve"\n',
                    encoding="utf-8")
    done = hearth("provision", str(file))
    assert done.returncode == 1 and "Error: The model check failed:" in done.stderr
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    from wizard.profiles import load_profile

    profile = load_profile("study-buddy")
    assert profile.person_name == "Ada" and profile.model_path == tiny_model
    assert profiles() == ["study-buddy"]
