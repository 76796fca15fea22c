"""Folders in recipes: placeholders resolve per computer; over-broad grants are refused."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from wizard.paths import hearth_paths
from wizard.recipes import RecipeError, parse_recipe_text
from wizard.recipes.folders import FolderProblem, expand, resolve, too_broad

MINIMAL = '''schema_version = 1
id = "folders"
name = "Folders"
description = "Folder tests."
for_whom = "Tests."
[persona]
system_prompt = "Be brief."
greeting = "Hi."
[documents]
folders = [
'''


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    for name in ("Documents", "Desktop", "Work/Letters", ".ssh", ".config"):
        (home / name).mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home


def folder_problems(*written: str) -> list[str]:
    text = MINIMAL + "".join(f"  {item!r},\n".replace("'", '"') for item in written) + "]\n"
    try:
        loaded = parse_recipe_text(text, label="f.toml")
    except RecipeError as exc:
        return [str(p) for p in exc.problems]
    return [str(n) for n in loaded.notes]


def test_placeholders_and_home_resolve_on_this_computer(user_home: Path) -> None:
    assert resolve("{documents}") == (user_home / "Documents", True)
    assert resolve("{desktop}/") == (user_home / "Desktop", True)
    assert resolve("~/Work/Letters") == (user_home / "Work" / "Letters", True)
    assert resolve("{documents}/Not yet") == (user_home / "Documents" / "Not yet", False)
    # platformdirs follows the person's own xdg user-dirs settings
    (user_home / ".config" / "user-dirs.dirs").write_text('XDG_DOCUMENTS_DIR="$HOME/Work"\n')
    assert resolve("{documents}/Letters") == (user_home / "Work" / "Letters", True)


def test_written_forms_that_are_refused(user_home: Path) -> None:
    cases = {
        "{docs}": "{docs} is not a folder name Hearth knows (did you mean {documents}?)",
        "{documents}x": 'expected "/" after {documents}, found "x"',
        "~root/files": 'only "~/…" (your own home folder) may start with ~',
        "Documents/Letters": "expected a full folder path",
        "https://example.com/files": "expected a full folder path",
        "{documents}/../.ssh": 'must not contain ".."',
        "~/Work/..": 'must not contain ".."',
        "  ": "expected a folder, found empty text",
        "/" + "a" * 400: "a folder may be at most 300 characters long",
    }
    for written, start in cases.items():
        with pytest.raises(FolderProblem) as caught:
            resolve(written)
        assert caught.value.message.startswith(start), (written, caught.value.message)


def test_over_broad_grants_are_refused_with_line_numbers(user_home: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file.txt").write_text("x")
    found = folder_problems("~", "~/.ssh", "/", "/etc/ssh", "/usr", "/home",
                            str(tmp_path / "a-file.txt"), str(hearth_paths().data))
    assert [p.split(": ", 2)[:2] for p in found] == [
        [f"f.toml:{11 + i}", f"documents.folders[{i + 1}]"] for i in range(8)]
    joined = "\n".join(found)
    for expected in ("this is your whole home folder", "\".ssh\" is a hidden settings folder",
                     "this is a whole disk", "this is a system folder",
                     "holds other people's or other disks' folders",
                     "is a file, expected a folder", "this is Hearth's own folder"):
        assert expected in joined


def test_symlinks_are_followed_before_checking(user_home: Path) -> None:
    (user_home / "Documents" / "innocent").symlink_to("/etc")
    (user_home / "Documents" / "keys").symlink_to(user_home / ".ssh")
    (user_home / "Documents" / "ok").symlink_to(user_home / "Work")
    with pytest.raises(FolderProblem, match=r"refused \(/etc\): this is a system folder"):
        resolve("{documents}/innocent")
    with pytest.raises(FolderProblem, match="hidden settings folder"):
        resolve("{documents}/keys")
    assert resolve("{documents}/ok") == (user_home / "Work", True)


def test_prefix_is_not_containment() -> None:
    home = PurePosixPath("/home/ann")
    assert too_broad(PurePosixPath("/home/ann-evil/docs"), home=home) is None
    assert too_broad(PurePosixPath("/etcetera"), home=home) is None
    assert too_broad(PurePosixPath("/etc"), home=home) is not None
    own = [PurePosixPath("/home/ann/.local/share/Hearth")]
    assert too_broad(PurePosixPath("/srv/Hearth-files"), home=home, own=own) is None


def test_windows_rules_on_windows_paths() -> None:
    home = PureWindowsPath("C:/Users/Ann")
    refused = {
        "C:\\": "whole disk", "D:\\": "whole disk", "C:\\Windows": "system folder",
        "c:\\windows\\System32": "system folder", "C:\\Program Files\\App": "system folder",
        "C:\\ProgramData": "system folder", "C:\\Users": "holds your whole home folder",
        "C:\\Users\\Ann": "whole home folder", "c:\\users\\ann\\AppData\\Roaming": "settings folder",
        "C:\\Users\\Ann\\.ssh": "settings folder",
    }
    for written, reason in refused.items():
        result = too_broad(PureWindowsPath(written), home=home)
        assert result is not None and reason in result, (written, result)
    for fine in ("C:\\Users\\Ann\\Documents", "D:\\Office\\Invoices", "C:\\Windows-old-docs"):
        assert too_broad(PureWindowsPath(fine), home=home) is None, fine


def test_missing_folder_is_a_note_not_an_error(user_home: Path) -> None:
    notes = folder_problems("{documents}/Later")
    assert notes == [f'f.toml:11: documents.folders[1]: note: "{{documents}}/Later" '
                     f'({user_home / "Documents" / "Later"}) does not exist on this computer yet; '
                     "it is used once it does"]


def test_expand_uses_given_home_and_dirs() -> None:
    dirs = {"documents": lambda: "/data/ann/Docs"}
    assert expand("{documents}/x", home=Path("/data/ann"), user_dirs=dirs) == Path("/data/ann/Docs/x")
    assert expand("~", home=Path("/data/ann"), user_dirs=dirs) == Path("/data/ann")


def as_unprivileged() -> list[str]:
    """The command prefix that runs a program without the power to read every folder.

    Root reads folders whatever their permissions; ``setpriv`` drops that power (the process
    keeps its user, so it still owns its own files). Skips the test when it cannot be done.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: every folder is readable")
    prefix = [setpriv, "--inh-caps=-all", "--bounding-set=-all"]
    probe = subprocess.run([*prefix, "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"setpriv cannot drop root's powers here: {probe.stderr.decode().strip()}")
    return prefix


@pytest.fixture
def locked_folder(user_home: Path) -> Iterator[Path]:
    """``~/Locked/Inner``: a real folder inside a folder nobody may open (mode 000)."""
    locked = user_home / "Locked"
    (locked / "Inner").mkdir(parents=True)
    locked.chmod(0)
    try:
        yield locked / "Inner"
    finally:
        locked.chmod(0o755)


def test_a_nul_character_is_a_plain_problem(user_home: Path) -> None:
    for written in ("{documents}/a\x00b", "/srv/office\x00", "~/Work\x00/Letters"):
        with pytest.raises(FolderProblem) as caught:
            resolve(written)
        assert "invisible \"NUL\" character" in caught.value.message and "\x00" not in caught.value.message


def test_a_name_the_system_cannot_look_up_is_a_plain_problem(user_home: Path) -> None:
    too_long = "~/" + "n" * 280  # one name longer than any file system allows (255)
    with pytest.raises(FolderProblem) as caught:
        resolve(too_long)
    assert caught.value.message == (f"{user_home / ('n' * 280)} cannot be checked on this computer "
                                    "(File name too long); check how the folder is written")


def test_a_folder_inside_an_unreadable_folder_is_a_plain_problem(user_home: Path, locked_folder: Path) -> None:
    script = ("import json, sys\nfrom wizard.recipes.folders import FolderProblem, resolve\n"
              "try:\n    print(json.dumps({'ok': str(resolve(sys.argv[1]))}))\n"
              "except FolderProblem as exc:\n    print(json.dumps({'problem': exc.message}))\n")
    done = subprocess.run([*as_unprivileged(), sys.executable, "-c", script, "~/Locked/Inner"],
                          capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"problem": (
        f"Hearth is not allowed to look inside the folder holding {locked_folder} (permission denied); "
        "choose a folder you can open, or ask whoever looks after this computer")}
