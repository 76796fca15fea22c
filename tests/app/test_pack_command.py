"""`hearth pack export/import` as a consultant runs them: real processes, the real tiny model, two homes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import tiny_model as tiny
from tests.support.hub_mirror import HubMirror

REPO_ROOT = Path(__file__).resolve().parents[2]
REPO, FILE = "acme/tiny-GGUF", "tiny.Q4_1.gguf"


def hearth(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO_ROOT,
                          env=dict(os.environ, HEARTH_HOME=str(home)), text=True, capture_output=True, timeout=180)


def test_export_on_one_computer_import_on_another(hub_mirror: HubMirror, tiny_model: Path, tmp_path: Path) -> None:
    online, offline, stick = tmp_path / "online-laptop", tmp_path / "offline-laptop", tmp_path / "usb" / "pack"
    hub_mirror.add_repo(REPO, {FILE: tiny_model})
    assert hearth(online, "download", REPO, FILE, "--endpoint", hub_mirror.url).returncode == 0

    exported = hearth(online, "pack", "export", str(stick), "--model", FILE)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.strip() == f"Wrote a model pack with 1 model file (98.4 MB) to {stick}."

    imported = hearth(offline, "pack", "import", str(stick))
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == f"Installed acme--tiny-GGUF/{FILE} (98.4 MB, sha256 verified)."
    assert imported.stderr.splitlines()[-1].startswith("Done")
    assert tiny.sha256_of(offline / "models" / "acme--tiny-GGUF" / FILE) == tiny.SHA256
    [model] = json.loads(hearth(offline, "models", "list", "--json").stdout)["models"]
    assert model["source"] == {"kind": "pack", "repo": REPO, "filename": FILE,
                               "revision": hub_mirror.repos[REPO].sha, "pack": str(stick)}


def test_a_damaged_pack_is_one_plain_sentence_and_nothing_is_installed(tmp_path: Path) -> None:
    stick = tmp_path / "pack"
    (stick / "models").mkdir(parents=True)
    (stick / "models" / "m.gguf").write_bytes(b"GGUF-not-the-real-thing")
    (stick / "hearth-pack.toml").write_text(
        'schema_version = 1\n\n[[files]]\npath = "models/m.gguf"\nsize = 23\n'
        f'sha256 = "{"0" * 64}"\nlicence = "apache-2.0"\n')
    home = tmp_path / "home"
    done = hearth(home, "pack", "import", str(stick))
    assert done.returncode == 1
    assert ("Error: The model pack is damaged: “models/m.gguf” is not the file the pack lists. "
            "Nothing was installed.") in done.stderr
    assert "Traceback" not in done.stderr
    assert [p for p in (home / "models").rglob("*") if p.is_file()] == []


def test_the_recipes_of_assistants_travel_with_their_models(tmp_path: Path, monkeypatch) -> None:
    from wizard.engine.plan import LoadPlan
    from wizard.models import ModelSource, register_file
    from wizard.paths import hearth_paths
    from wizard.profiles import save_profile
    from wizard.recipes import parse_recipe_text
    from wizard.recipes.plan import plan_recipe

    online, offline, stick = tmp_path / "online-laptop", tmp_path / "offline-laptop", tmp_path / "usb" / "pack"
    monkeypatch.setenv("HEARTH_HOME", str(online))
    model = hearth_paths().models / "acme--small" / "small.gguf"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"GGUF" + bytes(range(256)) * 16)
    register_file(model, source=ModelSource(kind="hub", repo="acme/small", filename="small.gguf"))
    recipe = parse_recipe_text('schema_version = 1\nid = "shop-helper"\nname = "Shop helper"\n'
                               'description = "Answers customers."\nfor_whom = "A shop."\n'
                               '[persona]\nsystem_prompt = "You help a shop."\ngreeting = "Hello."\n').recipe
    save_profile(plan_recipe(recipe), allow=True, person_name="Sam", model_name="Small", model_path=model,
                 model_repo=None, model_file=None, load_plan=LoadPlan(n_ctx=1024, n_threads=1))

    exported = hearth(online, "pack", "export", str(stick))
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.strip() == f"Wrote a model pack with 1 model file and 1 recipe (4.1 kB) to {stick}."
    imported = hearth(offline, "pack", "import", str(stick))
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.splitlines()[-1] == ("Added the recipe “Shop helper” as shop-helper "
                                                "(set it up with “hearth recipe apply shop-helper”).")
    listed = hearth(offline, "recipe", "list")
    assert "shop-helper" in listed.stdout.split("Added on this computer")[1]
    assert hearth(offline, "recipe", "apply", "shop-helper", "--dry-run").returncode == 0

    bare = hearth(online, "pack", "export", str(tmp_path / "bare"), "--no-recipes")
    assert bare.stdout.strip() == f"Wrote a model pack with 1 model file (4.1 kB) to {tmp_path / 'bare'}."
