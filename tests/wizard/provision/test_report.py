"""The handover report: self-contained, printable, and every value escaped."""

from __future__ import annotations

from pathlib import Path

from wizard.engine.plan import LoadPlan
from wizard.profiles import load_profile, save_profile
from wizard.provision import render_report, write_report
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
