"""The handover report: self-contained, printable, and every value escaped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wizard.engine.plan import LoadPlan
from wizard.paths import hearth_paths
from wizard.profiles import load_profile, save_profile
from wizard.provision import load_answers, provision, render_report, write_report
from wizard.recipes import parse_recipe_text
from wizard.recipes.plan import plan_recipe

HOSTILE = '''schema_version = 1
id = "hostile"
name = "<script>alert(1)</script>"
description = "<img src=x onerror=alert(2)>"
for_whom = "Tests."
[persona]
system_prompt = "Hi."
greeting = "Hi."
[local_api]
offered = true
'''


def _profile(tiny_model: Path):
    save_profile(plan_recipe(parse_recipe_text(HOSTILE).recipe), allow=True, person_name="<b>Eve</b>",
                 model_name="<i>m</i>", model_path=tiny_model, model_repo=None, model_file=None,
                 load_plan=LoadPlan(n_ctx=2048, n_threads=2), extra={"model_reason": "\"quoted\" & <odd>"})
    return load_profile("hostile")


def test_a_hostile_recipe_cannot_inject_markup(tiny_model: Path) -> None:
    html = render_report(_profile(tiny_model))
    assert "<script" not in html and "<img" not in html and "<b>Eve" not in html and "<i>m" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;Eve&lt;/b&gt;" in html
    assert "&quot;quoted&quot; &amp; &lt;odd&gt;" in html


def test_the_report_is_self_contained_and_says_where_everything_is(tiny_model: Path, hearth_home: Path) -> None:
    profile = _profile(tiny_model)
    path = write_report(profile)
    html = path.read_text(encoding="utf-8")
    assert path == profile.folder / "handover-report.html"
    for outside in ("<script", "<link", "<img", "<iframe", "url(", "http://", "https://", "@import"):
        assert outside not in html
    assert "@media print" in html
    for words in ("No telemetry", "Local API for other apps: <b>off</b>", "Uninstall completely",
                  "Export everything", "Conversations and memory",
                  str(hearth_home / "data"), str(tiny_model), "2048 tokens"):
        assert words in html
    stamp = path.stat().st_mtime_ns
    write_report(profile)
    assert path.stat().st_mtime_ns == stamp  # the same report is not rewritten


SHOP = '''schema_version = 1
id = "corner-shop"
name = "Corner shop"
description = "Drafts emails."
for_whom = "A shop."
[persona]
system_prompt = "Be brief."
greeting = "Hi."
[[integrations]]
name = "mail"
purpose = "Send approved drafts."
secrets = ["mail_password"]
[local_api]
offered = true
'''


def _rows(html: str) -> dict[str, str]:
    """Every table row of the report as {heading: cell text} (markup taken out)."""
    from html import unescape

    return {unescape(k): unescape(re.sub("<[^>]+>", "", v))
            for k, v in re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td></tr>", html)}


@pytest.fixture
def provisioned(tmp_path: Path, tiny_model: Path):
    """A profile made by real provisioning: the tiny model run once and measured."""
    (tmp_path / "shop.toml").write_text(SHOP, encoding="utf-8")
    answers = tmp_path / "answers.toml"
    answers.write_text(f'schema_version = 1\nrecipe = "shop.toml"\nmodel = "{tiny_model}"\nperson_name = "Ada"\n',
                       encoding="utf-8")
    result = provision(load_answers(answers))
    return load_profile("corner-shop"), result, answers


@pytest.mark.slow
def test_the_report_of_a_provisioned_profile_gives_the_real_figures(provisioned, hearth_home: Path) -> None:
    from html import unescape

    from wizard.hardware import probe_hardware
    from wizard.models import ModelRegistry

    profile, result, answers = provisioned
    html = result.report.read_text(encoding="utf-8")
    rows = _rows(html)
    hardware = probe_hardware()
    facts = profile.setup["hardware"]
    assert rows["System"] == facts["os"] and facts["os"].startswith(hardware.os.name)
    assert rows["Processor"] == (f"{hardware.cpu.model_name}, {hardware.cpu.physical_cores} cores "
                                 f"({hardware.cpu.logical_cores} threads)")
    assert rows["Memory"] == f"{hardware.memory.total_bytes / 1e9:.1f} GB"
    assert rows["Graphics used for the model"] == ("yes" if hardware.gpu_offload.supported else "no")
    assert rows["Why this model"] == "the answer file names this model file" == profile.setup["model_reason"]

    fit = ModelRegistry().get(profile.setup["model_id"]).fit  # what the check measured, kept with the model
    assert fit["outcome"] == "ok" and fit["tokens_per_second"] > 1 and fit["peak_ram_bytes"] > 50e6
    assert rows["Measured speed"] == (f"{fit['tokens_per_second']:.1f} tokens a second (about "
                                      f"{fit['tokens_per_second'] * 0.75:.0f} words)")
    assert rows["Measured memory"] == f"{fit['peak_ram_bytes'] / 1e6:,.0f} MB at its peak"
    plan = profile.load_plan
    assert rows["How it is loaded"].startswith(f"{plan.n_ctx} tokens of conversation memory, "
                                               f"{plan.n_threads} threads")
    passed = f"Model check passed: The model runs well on this computer. ({fit['tokens_per_second']:.0f} tokens"
    assert any(line.startswith(passed) for line in result.lines), result.lines

    paths = hearth_paths()
    assert f"run <code>hearth provision {answers}</code> again" in html  # update this assistant
    assert (f"<b>Back up</b>: copy the folders <code>{paths.data}</code> and <code>{paths.config}</code> "
            f"(and <code>{paths.models}</code> to keep the models)") in html
    assert "<i>Settings → Your data → Export everything…</i>" in html
    # uninstall names every keyring entry Hearth may have made, this assistant's secret first
    keyring = [tuple(unescape(re.sub("<[^>]+>", "", cell)) for cell in row) for row in
               re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", html)]
    assert keyring == [("Hearth/corner-shop", "mail_password", "a secret this assistant uses"),
                       ("Hearth/local-api", "token", "the local API's token"),
                       ("Hearth/huggingface", "token", "a Hugging Face access token"),
                       ("Hearth/engine", "remote-key", "the key of another computer's AI server")]


def test_the_keyring_entries_are_the_ones_hearth_really_uses(tiny_model: Path, keyring_memory) -> None:
    from wizard.secrets import HUB_TOKEN, set_secret
    from wizard.settings_secrets import local_api_token, set_remote_engine_key

    profile = _profile(tiny_model)
    set_secret(*HUB_TOKEN, "hf_x")
    local_api_token()
    set_remote_engine_key("k")
    html = render_report(profile)
    for service, name in keyring_memory.secrets:  # every entry Hearth made is named in the report
        assert f"<tr><td><code>{service}</code></td><td><code>{name}</code></td>" in html


def test_privacy_says_what_talks_to_the_network(tiny_model: Path) -> None:
    from wizard.settings import Settings, save_settings

    profile = _profile(tiny_model)
    html = render_report(profile)
    assert "Conversations, memory and documents stay on this computer" in html
    assert "Conversations leave this computer" not in html and "<b>off</b>" in html

    save_settings(Settings(engine="remote", remote_url="http://192.168.1.20:8080/v1", local_api=True,
                           local_api_port=8800))
    html = render_report(profile)
    assert "stay on this computer, in the folders" not in html
    assert ("<span class=\"loud\">Conversations leave this computer</span>: Hearth's settings (Settings → "
            "Engine: <i>On another computer on my network</i>) send every message") in html
    assert "to the AI server at <code>http://192.168.1.20:8080/v1</code>" in html
    assert "Local API for other apps: <b>on</b>" in html and "<code>http://127.0.0.1:8800/v1</code>" in html
