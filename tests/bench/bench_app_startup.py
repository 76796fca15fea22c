"""Benchmark: time to a shown main window, Hearth vs a bare PySide6 window, in the same run.

Run: ``.venv/bin/python tests/bench/bench_app_startup.py [--runs 7]``

Each sample is a fresh Python process. The Hearth side runs the real ``hearth`` entry point
(``app.__main__.main([])``: argument parsing, logging, ``run_gui``); the only thing added is a
wrapper around ``QApplication.exec`` that, once the event loop runs, notes the end of the
first paint of: the main window ("window": its light "Getting ready…" page), the main window
again once its real content is in place ("content": the welcome page or the chat, built right
after the first paint) and, on a first run, the setup wizard that opens then; it prints the
times and closes the windows the normal way. The bare side shows a plain ``QMainWindow`` of
the same size the same way. Time is measured from just before the parent starts the process
(interpreter start-up included) to the end of each paint, on the system-wide monotonic clock.
Sides run interleaved (bare, first run, everyday, bare, ...), so other work on the machine
hits them alike; medians are printed. Goal: Hearth's window <= 1.5x bare.

- "first run": a fresh empty HEARTH_HOME per sample; the main window shows the welcome page
  and the setup wizard opens over it;
- "everyday": a HEARTH_HOME with a finished profile (the shipped everyday-assistant recipe on
  the tiny test model) and a saved settings file; the main window shows the chat and starts
  the model after it is drawn.
Offscreen (``QT_QPA_PLATFORM=offscreen``) unless ``--platform`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.bench.machine_noise import OtherWork  # noqa: E402

PYCACHE = Path.home() / ".cache" / "hearth-dev" / "bench-pycache"

# Shared by both sides: after exec() starts, note the first finished paint of each watched window
# (watched from the start, or from when it is named: a window that appears later, the content).
# Each watched window gets its own event filter. Not one on the whole application: a Python filter
# there sees every object that gets an event, and PySide6 then builds a Python wrapper (and sets up
# the Qt class) for each, among them the animation objects Qt makes for a main window's central
# widget: ~90 ms on Hearth's side only, which no real start pays (Hearth filters no events).
WATCH = r'''
import json, os, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

class FirstPaint(QObject):
    """Records, per watched top-level window, when its first paint (since it was named) has finished."""
    def __init__(self, windows, expected, done):
        super().__init__()
        self.windows, self.expected, self.done, self.times = {}, expected, done, {}
        for name, window in windows.items():
            self.watch(name, window)
    def watch(self, name, window):
        self.windows[name] = window
        window.installEventFilter(self)
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            for name, window in self.windows.items():
                if obj is window and name not in self.times:
                    self.times[name] = None
                    QTimer.singleShot(0, lambda name=name: self.painted(name))  # after the paint
        return False
    def painted(self, name):
        self.times[name] = time.monotonic()
        if "on_painted" in globals():  # --profile: a snapshot at the window's first paint
            on_painted(name)
        if all(self.times.get(n) is not None for n in self.expected):
            print("BENCH " + json.dumps({"imports_done": IMPORTS_DONE, "script_start": SCRIPT_START,
                                         **self.times}), flush=True)
            self.done()

def watch_and_exec(app, original_exec, watcher):
    give_up = QTimer(); give_up.setSingleShot(True)
    give_up.timeout.connect(lambda: (print("BENCH-TIMEOUT", watcher.times, flush=True), app.exit(3)))
    give_up.start(120_000)
    return original_exec()
'''

BARE = r'''
import time
SCRIPT_START = time.monotonic()
from PySide6.QtWidgets import QApplication, QMainWindow
IMPORTS_DONE = time.monotonic()
''' + WATCH + r'''
app = QApplication(sys.argv)
window = QMainWindow()
window.setWindowTitle("Bare")
window.resize(960, 640)
window.show()
watcher = FirstPaint({"main": window}, ["main"], lambda: (window.close(), app.quit()))
sys.exit(watch_and_exec(app, app.exec, watcher))
'''

HEARTH = r'''
import time
SCRIPT_START = time.monotonic()
import app.__main__ as entry
from PySide6.QtWidgets import QApplication
IMPORTS_DONE = time.monotonic()  # what the entry point imports before it parses arguments
''' + WATCH + r'''
original = QApplication.exec
def exec_and_watch(app):
    from app.main_window import MainWindow
    shown = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    main = next(w for w in shown if isinstance(w, MainWindow))
    def done():
        wizard = getattr(main, "setup_wizard", None)
        if wizard is not None:
            wizard.close()
        main.close()  # the real close: window state saved, the chat's engine stopped
        app.quit()
    watcher = FirstPaint({"main": main}, os.environ["BENCH_EXPECT"].split(","), done)
    def content_ready():  # after Hearth's own slots: on a first run the setup wizard exists now
        watcher.watch("content", main)  # its next paint shows the content
        if getattr(main, "setup_wizard", None) is not None:
            watcher.watch("wizard", main.setup_wizard)
    main.content_ready.connect(content_ready)
    return watch_and_exec(app, original, watcher)
QApplication.exec = exec_and_watch
sys.exit(entry.main([]))
'''


def make_everyday_home(home: Path) -> None:
    """A HEARTH_HOME holding one finished profile (the shipped everyday recipe on the tiny model) and a
    saved settings file, as after a person has changed a setting: reading it is part of each start."""
    os.environ["HEARTH_HOME"] = str(home)
    from tests.support.tiny_model import ensure_tiny_model
    from wizard.engine import LoadPlan
    from wizard.profiles import list_profiles, save_profile
    from wizard.recipes import load_recipe
    from wizard.recipes.plan import plan_recipe
    from wizard.settings import Settings, save_settings

    recipe = load_recipe(REPO / "recipes" / "everyday-assistant.toml", home=home / "user").recipe
    save_profile(plan_recipe(recipe), allow=True, person_name="Sam", model_name="SmolLM2 tiny",
                 model_path=ensure_tiny_model(), model_repo=None, model_file=None,
                 load_plan=LoadPlan(n_ctx=2048, n_threads=2))
    save_settings(Settings(threads=2))
    assert list_profiles(), "the profile was not written"
    del os.environ["HEARTH_HOME"]


# The paints each side waits for: the window ("main"), its content, and on a first run the wizard.
EXPECT = {"first run": "main,content,wizard", "everyday": "main,content"}

EXIT_FAILURES: list[str] = []  # processes that showed their window but then failed to exit cleanly


def sample(code: str, env: dict[str, str], label: str) -> dict[str, float]:
    """Run one process; return seconds from its start to each window's first paint (and phases).

    A process that measured but then exited with an error is counted in EXIT_FAILURES (and
    reported at the end): the measurement stands, the failure is a finding of its own.
    Raises RuntimeError if the process printed no measurement.
    """
    began = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=dict(env, PYTHONFAULTHANDLER="1"),
                         capture_output=True, text=True, timeout=180)
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"no measurement (exit {out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    if out.returncode != 0:
        EXIT_FAILURES.append(f"{label}: exit {out.returncode}\n{out.stderr[-1500:]}")
    times = json.loads(line[len("BENCH "):])
    return {name: value - began for name, value in times.items()}


def profile_one(env: dict[str, str]) -> None:
    """Run one Hearth start under cProfile and print where its time went (this repository's code):
    up to the end of the window's first paint, then up to the last watched paint (content, wizard)."""
    start = HEARTH.replace("sys.exit(entry.main([]))", "entry.main([])")
    body = "\n".join("    " + line for line in start.splitlines())
    show = f"pstats.Stats(profile).sort_stats('cumulative').print_stats({str(REPO)!r}, 25)"
    code = ("import cProfile, pstats\nprofile = cProfile.Profile()\n"
            "def on_painted(name):\n"
            "    if name == 'main':\n"
            "        profile.disable()\n"
            "        print('==== up to the end of the main window\\'s first paint ====')\n"
            f"        {show}\n"
            "        profile.enable()\n"
            f"profile.enable()\ntry:\n{body}\nfinally:\n"
            "    profile.disable()\n"
            "    print('==== up to the last watched paint (its content; the wizard on a first run) ====')\n"
            f"    {show}\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=180)
    print("\n".join(line for line in out.stdout.splitlines() if line.strip() and not line.startswith("BENCH")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    parser.add_argument("--profile", choices=("first-run", "everyday"),
                        help="instead: profile one Hearth start and print where the time goes")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="hearth-bench-startup-"))
    try:
        everyday_home = scratch / "everyday"
        make_everyday_home(everyday_home)
        # An installed app has its bytecode compiled; PYTHONDONTWRITEBYTECODE (set on some dev machines)
        # would make every Hearth sample compile ~100 modules from source. Bytecode goes to a cache
        # outside the repository instead, filled by the warm-up round.
        base_env = {k: v for k, v in os.environ.items()
                    if not k.startswith("HEARTH_") and k != "PYTHONDONTWRITEBYTECODE"}
        base_env.update(QT_QPA_PLATFORM=args.platform, HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_XET="1",
                        PYTHONPATH=str(REPO), PYTHONPYCACHEPREFIX=str(PYCACHE))
        if args.profile:
            sample(HEARTH, dict(base_env, HEARTH_HOME=str(scratch / "warm"), BENCH_EXPECT=EXPECT["first run"]),
                   "warm-up")  # fill the bytecode cache
            home = everyday_home if args.profile == "everyday" else scratch / "profiled-first-run"
            profile_one(dict(base_env, HEARTH_HOME=str(home),
                             BENCH_EXPECT=EXPECT["everyday" if args.profile == "everyday" else "first run"]))
            return
        print(f"platform {args.platform}, {args.runs} runs, sides interleaved (bare, first run, everyday, ...); "
              f"load average before {os.getloadavg()[0]:.2f}")
        results: dict[str, list[dict[str, float]]] = {"bare": [], "first run": [], "everyday": []}
        # One untimed round first: the disk cache and Python's bytecode cache warm up for every side.
        rounds = [("warm-up", 0)] + [("run", n) for n in range(1, args.runs + 1)]
        for kind, number in rounds:
            first_home = scratch / f"first-{kind}-{number}"
            with OtherWork() as others:
                row = {
                    "bare": sample(BARE, base_env, "bare"),
                    "first run": sample(HEARTH, dict(base_env, HEARTH_HOME=str(first_home),
                                                     BENCH_EXPECT=EXPECT["first run"]), "first run"),
                    "everyday": sample(HEARTH, dict(base_env, HEARTH_HOME=str(everyday_home),
                                                    BENCH_EXPECT=EXPECT["everyday"]), "everyday"),
                }
            shutil.rmtree(first_home, ignore_errors=True)
            if kind == "warm-up":
                continue
            for side, times in row.items():
                results[side].append(times)
            first, everyday = row["first run"], row["everyday"]
            print(f"  run {number}: bare {row['bare']['main'] * 1000:5.0f} ms   first run {first['main'] * 1000:5.0f} ms "
                  f"(welcome {first['content'] * 1000:5.0f}, wizard {first['wizard'] * 1000:5.0f})   everyday "
                  f"{everyday['main'] * 1000:5.0f} ms (chat {everyday['content'] * 1000:5.0f})   "
                  f"(others {others.cores:.1f} cores)")

        def median(side: str, key: str) -> float:
            return statistics.median(r[key] for r in results[side])

        bare = median("bare", "main")
        print(f"\nmedian of {args.runs}, from process start to the end of each first paint:")
        print(f"  {'side':<40}{'shown':>9}{'ratio':>8}{'python up':>11}{'imports':>9}")
        lines = [("bare PySide6 QMainWindow", "bare", "main"),
                 ("Hearth first run: window", "first run", "main"),
                 ("Hearth first run: welcome page in it", "first run", "content"),
                 ("Hearth first run: setup wizard", "first run", "wizard"),
                 ("Hearth everyday: window", "everyday", "main"),
                 ("Hearth everyday: chat in it", "everyday", "content")]
        for label, side, key in lines:
            shown = median(side, key)
            print(f"  {label:<40}{shown * 1000:7.0f}ms{shown / bare:7.2f}x"
                  f"{median(side, 'script_start') * 1000:9.0f}ms{median(side, 'imports_done') * 1000:7.0f}ms")
        print("  (goal: Hearth's window <= 1.5x bare; 'python up' = interpreter ready, 'imports' = "
              "after the first imports)")
        print(f"load average after {os.getloadavg()[0]:.2f} (other work on this machine skews every side)")
        if EXIT_FAILURES:
            print(f"\nWARNING: {len(EXIT_FAILURES)} of {3 * (args.runs + 1)} processes showed their window but did "
                  f"not exit cleanly when it was closed; the first:\n{EXIT_FAILURES[0]}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
