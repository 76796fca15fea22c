"""``hearth chat`` and ``hearth serve`` as real subprocesses with the real tiny model."""

from __future__ import annotations

import http.client
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from wizard.agent.database import database_path

REPO = Path(__file__).resolve().parents[2]
STORY = "Write a very long story about a dragon who learns to bake bread."


def hearth(*args: str, **options) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "app", *args], cwd=REPO, env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **options)


class Reader:
    """Collects a pipe in the background so a test can wait for text to appear."""

    def __init__(self, stream) -> None:
        self.data = b""
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        while chunk := stream.read1(4096):
            self.data += chunk

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    def wait_for(self, predicate, timeout: float = 120.0) -> str:
        deadline = time.monotonic() + timeout
        while not predicate(self.text):
            assert time.monotonic() < deadline, f"timed out; got {self.text!r}"
            time.sleep(0.02)
        return self.text

    def join(self) -> str:
        self._thread.join(30)
        return self.text


def rows(sql: str) -> list[tuple]:
    with sqlite3.connect(database_path()) as db:
        return db.execute(sql).fetchall()


def test_one_shot_prints_the_reply_and_saves_the_conversation(tiny_model: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "app", "chat", "--model", str(tiny_model),
                             "--temperature", "0", "Name", "the", "capital", "city", "of", "France."],
                            cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "Paris" in result.stdout
    assert "Traceback" not in result.stderr
    saved = rows("SELECT role, content, status FROM messages ORDER BY id")
    assert saved[0] == ("user", "Name the capital city of France.", "complete")
    assert saved[1][0] == "assistant" and saved[1][2] == "complete"
    assert result.stdout.strip() == saved[1][1].strip()


def test_killed_mid_reply_loses_nothing_committed(tiny_model: Path) -> None:
    process = hearth("chat", "--model", str(tiny_model), STORY)
    out, err = Reader(process.stdout), Reader(process.stderr)
    first = out.wait_for(lambda text: len(text) > 0)
    started = time.monotonic()
    out.wait_for(lambda text: len(text) > len(first) + 300 and time.monotonic() - started > 1.5)
    engine_children = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    printed = out.join()
    err.join()
    psutil.wait_procs(engine_children, timeout=30)  # the engine notices its parent is gone and leaves

    with sqlite3.connect(database_path()) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        saved = db.execute("SELECT role, content, status FROM messages ORDER BY id").fetchall()
    assert saved[0] == ("user", STORY, "complete")
    assert len(saved) == 2 and saved[1][0] == "assistant" and saved[1][2] == "partial"
    assert saved[1][1] and printed.startswith(saved[1][1])  # what was saved is what was shown
    assert not any(child.is_running() for child in engine_children)


def test_interactive_ctrl_c_stops_a_reply_not_the_program(tiny_model: Path) -> None:
    process = hearth("chat", "--model", str(tiny_model), stdin=subprocess.PIPE)
    out, err = Reader(process.stdout), Reader(process.stderr)
    process.stdin.write((STORY + "\n").encode())
    process.stdin.flush()
    out.wait_for(lambda text: len(text) > 200)
    process.send_signal(signal.SIGINT)
    err.wait_for(lambda text: "Answer stopped" in text)
    shown = len(out.text)
    process.stdin.write(b"Name the capital city of France.\n")
    process.stdin.close()  # end of input, like Ctrl+D
    assert process.wait(120) == 0, err.join()
    saved = rows("SELECT role, status, content FROM messages ORDER BY id")
    assert [row[:2] for row in saved] == [("user", "complete"), ("assistant", "partial"), ("user", "complete"),
                                          ("assistant", "complete")]
    # the second question was answered after the stop (what the tiny model says after half a
    # story is not the point: it sometimes goes on with the story)
    assert saved[2][2] == "Name the capital city of France."
    assert saved[3][2].strip() and saved[3][2].strip() in out.join()[shown:]
    summaries = rows("SELECT kind, conversation FROM memories")
    assert summaries == [("summary", 1)]  # the conversation was summarised into memory at the end


def test_without_a_model_it_says_what_to_do() -> None:
    result = subprocess.run([sys.executable, "-m", "app", "chat", "hello"], cwd=REPO, env=dict(os.environ),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "which model" in result.stderr and "--model" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_model_file_is_a_plain_error(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "app", "chat", "--model", str(tmp_path / "none.gguf"), "hi"],
                            cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("Error:") == 1 and "Traceback" not in result.stderr


def _get(port: int, path: str, token: str | None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    try:
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(("stop_signal", "exit_code"), [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_serve_prints_url_and_token_and_stops_its_engine(tiny_model: Path, stop_signal, exit_code) -> None:
    process = hearth("serve", "--model", str(tiny_model))
    out, err = Reader(process.stdout), Reader(process.stderr)
    text = out.wait_for(lambda text: "Press Ctrl+C" in text)
    url = re.search(r"Address: (http://127\.0\.0\.1:(\d+)/v1)", text)
    token = re.search(r"Token:\s+(\S+)", text).group(1)
    port = int(url.group(2))
    engines = psutil.Process(process.pid).children(recursive=True)
    assert engines

    status, body = _get(port, "/v1/models", token)
    assert status == 200 and tiny_model.stem.encode() in body
    assert _get(port, "/v1/models", None)[0] == 401
    assert _get(port, "/v1/models", "wrong-token")[0] == 401

    from wizard.engine import EngineClient  # a real chat request with the printed token
    reply = EngineClient(url.group(1), api_key=token).chat([{"role": "user", "content": "Say hello."}])
    assert reply.text and reply.finish_reason in ("stop", "length")

    process.send_signal(stop_signal)
    assert process.wait(60) == exit_code, err.join()
    gone, alive = psutil.wait_procs(engines, timeout=10)
    assert not alive, "the engine process outlived hearth serve"
    assert "Traceback" not in err.join()


def test_serve_on_a_busy_port_is_a_plain_error(tiny_model: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "app", "serve", "--model", str(tiny_model), "--port",
                                 str(port)], cwd=REPO, env=dict(os.environ), capture_output=True, text=True,
                                timeout=120)
    assert result.returncode == 1
    assert "port" in result.stderr and "Traceback" not in result.stderr


# -- --profile ------------------------------------------------------------------------------------

PROFILE_RECIPE = '''schema_version = 1
id = "terse-helper"
name = "Terse helper"
description = "Answers in a few words."
for_whom = "Tests."
[persona]
system_prompt = "You are a terse helper. Answer in as few words as you can."
greeting = "Yes?"
[sampling]
temperature = 0.0
max_tokens = 16
'''


def _make_profile(model: Path):
    from wizard.engine import LoadPlan
    from wizard.profiles import load_profile, save_profile
    from wizard.recipes import parse_recipe_text
    from wizard.recipes.plan import plan_recipe

    save_profile(plan_recipe(parse_recipe_text(PROFILE_RECIPE).recipe), allow=True, person_name="Sam",
                 model_name="SmolLM2 tiny", model_path=model, model_repo=None, model_file=None,
                 load_plan=LoadPlan(n_ctx=1024, n_threads=2))
    return load_profile("terse-helper")


def test_chat_with_a_profile_uses_its_model_persona_and_sampling(tiny_model: Path) -> None:
    from wizard.profiles import default_profile

    _make_profile(tiny_model)
    result = subprocess.run([sys.executable, "-m", "app", "chat", "--profile", "terse-helper", STORY],
                            cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "Loading Terse helper (SmolLM2 tiny)" in result.stderr and "Traceback" not in result.stderr
    assert rows("SELECT profile, model FROM conversations") == [("terse-helper", "SmolLM2 tiny")]
    [(content, completion, prompt)] = rows("SELECT content, completion_tokens, prompt_tokens FROM messages "
                                           "WHERE role = 'assistant'")
    assert 0 < completion <= 16  # the recipe's max_tokens, not the default (a long story)
    assert result.stdout.strip() == content.strip()
    assert default_profile().id == "terse-helper"


def test_without_model_or_profile_the_default_profile_is_used(tiny_model: Path) -> None:
    _make_profile(tiny_model)
    result = subprocess.run([sys.executable, "-m", "app", "chat", "Name the capital city of France."],
                            cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "Loading Terse helper" in result.stderr
    assert rows("SELECT profile FROM conversations") == [("terse-helper",)]


def test_an_unknown_or_unusable_profile_is_a_plain_error(tiny_model: Path, tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "app", "chat", "--profile", "nobody", "hi"], cwd=REPO,
                            env=dict(os.environ), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "hearth profile list" in result.stderr
    assert "Traceback" not in result.stderr
    profile = _make_profile(tiny_model)
    (profile.folder / "setup.json").unlink()
    result = subprocess.run([sys.executable, "-m", "app", "chat", "--profile", "terse-helper", "hi"], cwd=REPO,
                            env=dict(os.environ), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "setup.json" in result.stderr and "Traceback" not in result.stderr
    both = subprocess.run([sys.executable, "-m", "app", "chat", "--profile", "x", "--model", "y.gguf", "hi"],
                          cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=60)
    assert both.returncode == 2 and "not allowed with" in both.stderr


def test_serve_with_a_profile_serves_its_model(tiny_model: Path) -> None:
    _make_profile(tiny_model)
    process = hearth("serve", "--profile", "terse-helper")
    out, err = Reader(process.stdout), Reader(process.stderr)
    text = out.wait_for(lambda text: "Press Ctrl+C" in text)
    url = re.search(r"Address: (http://127\.0\.0\.1:(\d+)/v1)", text)
    token = re.search(r"Token:\s+(\S+)", text).group(1)
    status, body = _get(int(url.group(2)), "/v1/models", token)
    assert status == 200 and tiny_model.stem.encode() in body
    assert "Loading Terse helper" in err.text
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0, err.join()
    assert "Traceback" not in err.join()


def _engine_child(process: subprocess.Popen) -> psutil.Process:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for child in psutil.Process(process.pid).children(recursive=True):
            try:
                if "wizard.engine.server" in " ".join(child.cmdline()):
                    return child
            except psutil.NoSuchProcess:
                continue
        time.sleep(0.05)
    raise AssertionError("no engine process")


def test_interactive_engine_killed_mid_reply_says_so_restarts_and_answers_the_next(tiny_model: Path) -> None:
    process = hearth("chat", "--model", str(tiny_model), "--temperature", "0", stdin=subprocess.PIPE)
    out, err = Reader(process.stdout), Reader(process.stderr)
    process.stdin.write((STORY + "\n").encode())
    process.stdin.flush()
    out.wait_for(lambda text: len(text) > 100)
    first_engine = _engine_child(process)
    first_engine.kill()  # SIGKILL, as when llama.cpp crashes
    err.wait_for(lambda text: "running again" in text)
    assert ("The AI stopped unexpectedly in the middle of its answer. What it wrote so far is saved.\n"
            "Restarting the AI…") in err.text
    second_engine = _engine_child(process)
    assert second_engine.pid != first_engine.pid
    shown = len(out.text)
    process.stdin.write(b"Name the capital city of France.\n")
    process.stdin.close()
    assert process.wait(180) == 0, err.join()
    assert "Paris" in out.join()[shown:]
    assert "Traceback" not in err.join()
    saved = rows("SELECT role, status FROM messages ORDER BY id")
    assert saved == [("user", "complete"), ("assistant", "partial"), ("user", "complete"), ("assistant", "complete")]
    assert not second_engine.is_running() or second_engine.status() == psutil.STATUS_ZOMBIE


TOOLS_RECIPE = '''schema_version = 1
id = "home-helper"
name = "Home helper"
description = "Finds things in the documents and keeps lists."
for_whom = "Tests."
[persona]
system_prompt = "You are a helpful assistant."
greeting = "Hello."
[sampling]
temperature = 0.0
max_tokens = 120
[documents]
folders = ["{documents}"]
[[tools]]
name = "documents_search"
[[tools]]
name = "write_file"
write_folders = ["{lists}"]
[memory]
enabled = false
'''


def test_chat_with_a_profile_gets_its_tools_documents_and_memory_setting(tiny_model: Path, tmp_path: Path) -> None:
    from wizard.agent.documents.index import DocumentIndex
    from wizard.agent.tools.for_profile import DOCUMENT_INDEX_FILE
    from wizard.engine import LoadPlan
    from wizard.profiles import load_profile, save_profile
    from wizard.recipes import parse_recipe_text
    from wizard.recipes.plan import plan_recipe

    documents, lists = tmp_path / "Documents", tmp_path / "Lists"
    documents.mkdir()
    lists.mkdir()
    (documents / "keys.txt").write_text("The spare key is under the blue flowerpot by the door.\n")
    recipe = parse_recipe_text(TOOLS_RECIPE.format(documents=documents, lists=lists)).recipe
    save_profile(plan_recipe(recipe), allow=True, person_name="Sam", model_name="SmolLM2 tiny",
                 model_path=tiny_model, model_repo=None, model_file=None, load_plan=LoadPlan(n_ctx=2048, n_threads=2))
    profile = load_profile("home-helper")

    result = subprocess.run([sys.executable, "-m", "app", "chat", "--profile", "home-helper"], cwd=REPO,
                            env=dict(os.environ), capture_output=True, text=True, timeout=300,
                            input="Remember that my cat is called Tom.\n"
                                  "Save a shopping list with milk and eggs to shopping.txt.\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    # its documents were read into its search index before the chat started
    assert "Your documents are ready to search (1 new" in result.stderr
    assert str((documents / "keys.txt").resolve()) in DocumentIndex(profile.folder / DOCUMENT_INDEX_FILE).files()
    # its recipe keeps no memories: nothing remembered, no summary at the end
    assert "Not remembered: this assistant is set up not to keep memories" in result.stderr
    assert rows("SELECT kind FROM memories") == []
    assert "Saving a short summary" not in result.stderr
    # its write_file tool was there, and with nobody at a terminal to ask, nothing was saved
    assert "Hearth asks before saving a file, and only an interactive terminal can be asked." in result.stderr
    assert "Did not save" in result.stderr
    assert list(lists.iterdir()) == []
    replies = rows("SELECT content FROM messages WHERE role = 'assistant' ORDER BY id")
    assert len(replies) == 2 and "Tools used: Did not save" in replies[1][0]


def test_in_a_terminal_the_person_is_asked_before_a_file_is_saved(monkeypatch, capsys, tmp_path: Path) -> None:
    import pty

    from app.commands.chat import terminal_confirm

    master, slave = pty.openpty()
    with open(slave, closefd=True) as terminal:  # a real terminal device, as in an interactive chat
        assert terminal.isatty()
        monkeypatch.setattr(sys, "stdin", terminal)
        os.write(master, b"y\n")
        assert terminal_confirm(tmp_path / "list.txt", "milk\neggs") is True
        os.write(master, b"\n")
        assert terminal_confirm(tmp_path / "list.txt", "milk") is False
    os.close(master)
    captured = capsys.readouterr()
    assert captured.out == ""  # the question is not part of the conversation on standard output
    assert f"The assistant wants to save this in {tmp_path / 'list.txt'}:\n    milk\n    eggs" in captured.err
    assert captured.err.count("Save it?") == 2 and "(Not saved.)" in captured.err
