"""engine_for applies Hearth's settings: context, threads, model choice, the local API, a remote server."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

from tests.wizard.profiles.test_profiles import make
from wizard.engine import EngineAuthError, EngineClient, EnginePortBusy, LoadPlan, LocalEngine, RemoteEngine
from wizard.models import ModelRegistry, ModelSource, register_file
from wizard.paths import hearth_paths
from wizard.profiles import engine_for, load_profile
from wizard.settings import Settings, save_settings
from wizard.settings_secrets import local_api_token, set_remote_engine_key

PROFILE_PLAN = LoadPlan(n_ctx=1024, n_threads=1)  # what make() saves


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / "Papers").mkdir(parents=True)
    (home / "Private").mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def installed_copy(tiny_model: Path, name: str) -> str:
    """Put a copy of the tiny model in the models folder and register it; its id."""
    target = hearth_paths().models / "owner--copy" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(tiny_model, target)
    except OSError:
        shutil.copyfile(tiny_model, target)
    return register_file(target, source=ModelSource(kind="manual")).id


def test_automatic_settings_keep_the_profile_plan(user_home: Path, tiny_model: Path) -> None:
    make(model=tiny_model)
    engine = engine_for(load_profile("helper"))  # the saved settings: none yet, so automatic
    assert isinstance(engine, LocalEngine)
    assert engine.plan == PROFILE_PLAN and engine.model_path == tiny_model


def test_context_and_threads_from_settings_reach_the_running_engine(user_home: Path, tiny_model: Path) -> None:
    make(model=tiny_model)
    save_settings(Settings(context_size=768, threads=2))
    engine = engine_for(load_profile("helper"))
    assert engine.plan == LoadPlan(n_ctx=768, n_threads=2)
    with engine:
        assert engine.ready_info["n_ctx"] == 768  # the engine process really loaded it so
    # the command line (explicit arguments) wins over the settings
    assert engine_for(load_profile("helper"), n_ctx=512).plan == LoadPlan(n_ctx=512, n_threads=2)
    # settings passed in win over the saved ones; only threads set: context stays the profile's
    assert engine_for(load_profile("helper"), settings=Settings(threads=3)).plan == LoadPlan(n_ctx=1024, n_threads=3)


def test_the_model_chosen_in_settings_is_used_with_its_measured_plan(user_home: Path, tiny_model: Path) -> None:
    make(model=tiny_model)
    model_id = installed_copy(tiny_model, "chosen.gguf")
    registry = ModelRegistry()
    chosen_path = registry.get(model_id).file_in(registry.models_dir)
    settings = Settings().with_model_for("helper", model_id)
    engine = engine_for(load_profile("helper"), settings=settings)
    assert engine.model_path == chosen_path and engine.plan == PROFILE_PLAN  # nothing measured yet
    registry.set_fit(model_id, {"plan": {"n_ctx": 640, "n_gpu_layers": 0, "n_threads": 2, "kv_type": "f16",
                                         "n_batch": 512, "flash_attn": False}})
    engine = engine_for(load_profile("helper"), settings=settings)
    assert engine.plan == LoadPlan(n_ctx=640, n_threads=2)
    assert engine_for(load_profile("helper"), settings=settings.changed(threads=1)).plan == LoadPlan(
        n_ctx=640, n_threads=1)
    with engine:
        assert engine.ready_info["model"] == "chosen"  # the engine runs the chosen file


def test_a_chosen_model_that_is_gone_falls_back_to_the_profile_model(user_home: Path, tiny_model: Path) -> None:
    make(model=tiny_model)
    model_id = installed_copy(tiny_model, "removed.gguf")
    registry = ModelRegistry()
    registry.get(model_id).file_in(registry.models_dir).unlink()
    for settings in (Settings().with_model_for("helper", model_id),
                     Settings().with_model_for("helper", "never-installed.gguf")):
        engine = engine_for(load_profile("helper"), settings=settings)
        assert engine.model_path == tiny_model and engine.plan == PROFILE_PLAN


def test_local_api_on_keeps_port_and_token_across_starts(user_home: Path, tiny_model: Path,
                                                         keyring_memory) -> None:
    make(model=tiny_model)
    port = free_port()
    save_settings(Settings(local_api=True, local_api_port=port))
    seen = []
    for _ in range(2):  # as after restarting Hearth: a new engine object each time
        with engine_for(load_profile("helper")) as engine:
            seen.append((engine.port, engine.token))
            client = EngineClient(f"http://127.0.0.1:{port}/v1", api_key=local_api_token(create=False))
            assert client.list_models() == [tiny_model.stem]
    assert seen[0] == seen[1] == (port, local_api_token(create=False))
    with pytest.raises(EngineAuthError):  # still closed to anyone without the token
        with engine_for(load_profile("helper")):
            EngineClient(f"http://127.0.0.1:{port}/v1", api_key="guess").list_models()


def test_local_api_off_gives_a_new_port_and_token_each_start(user_home: Path, tiny_model: Path) -> None:
    make(model=tiny_model)
    seen = []
    for _ in range(2):
        with engine_for(load_profile("helper"), settings=Settings(local_api=False)) as engine:
            seen.append((engine.port, engine.token))
            assert engine.client().list_models() == [tiny_model.stem]
    assert seen[0][0] != seen[1][0] and seen[0][1] != seen[1][1]


def test_a_busy_local_api_port_says_which_setting_to_change(user_home: Path, tiny_model: Path,
                                                            keyring_memory) -> None:
    make(model=tiny_model)
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        port = other_program.getsockname()[1]
        engine = engine_for(load_profile("helper"), settings=Settings(local_api=True, local_api_port=port))
        with pytest.raises(EnginePortBusy) as caught:
            engine.start()
    assert f"already using port {port}" in caught.value.user_message
    assert "Hearth's settings" in caught.value.hint and "Port" in caught.value.hint
    assert not engine.alive


def test_remote_settings_give_a_remote_engine_with_the_kept_key(user_home: Path, tiny_model: Path,
                                                                keyring_memory) -> None:
    make(model=tiny_model)
    with LocalEngine(tiny_model, LoadPlan(n_ctx=1024, n_threads=2)) as server:
        set_remote_engine_key(server.token)
        settings = Settings(engine="remote", remote_url=server.base_url, context_size=4096)
        remote = engine_for(load_profile("helper"), settings=settings)
        assert isinstance(remote, RemoteEngine) and remote.model_path is None
        assert remote.plan.n_ctx == 4096  # what Hearth assumes when the server does not say
        with remote:
            assert remote.model_name == tiny_model.stem
        set_remote_engine_key("wrong")
        with pytest.raises(EngineAuthError, match="refused Hearth's key"):
            engine_for(load_profile("helper"), settings=settings).start()


def test_remote_settings_need_no_model_file(user_home: Path) -> None:
    make()  # no model on this computer at all
    remote = engine_for(load_profile("helper"), settings=Settings(engine="remote", remote_url="http://127.0.0.1:9/v1"))
    assert isinstance(remote, RemoteEngine) and remote.token == ""  # no keyring here: no key
