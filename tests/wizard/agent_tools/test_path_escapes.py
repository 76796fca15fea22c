"""The path-escape corpus: hostile paths built for real (real symlinks, hard links, a FIFO)
against the permission checks the read_file and write_file tools go through."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wizard.agent.tools.permissions import (
    FolderPermissions,
    PathNotAllowed,
    ToolFileNotFound,
    check_untrusted_text,
    is_inside,
)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the corpus uses POSIX symlinks and FIFOs")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """tmp/allowed (granted), tmp/allowed-evil, tmp/outside, with links in every direction."""
    allowed = tmp_path / "allowed"
    (allowed / "sub" / "deeper").mkdir(parents=True)
    (allowed / "out").mkdir()  # the write folder
    (allowed / "notes.txt").write_text("inside")
    (allowed / "sub" / "inner.txt").write_text("inner")
    (allowed / "out" / "draft.txt").write_text("draft")
    evil = tmp_path / "allowed-evil"
    evil.mkdir()
    (evil / "secret.txt").write_text("evil secret")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("outside secret")
    (tmp_path / "top-secret.txt").write_text("top secret")
    # symlinks leading out
    (allowed / "link_out").symlink_to(outside, target_is_directory=True)
    (allowed / "file_link").symlink_to(outside / "secret.txt")
    (allowed / "evil_link").symlink_to(evil / "secret.txt")
    (allowed / "sub" / "up").symlink_to("../..", target_is_directory=True)
    (allowed / "abs_etc").symlink_to("/etc", target_is_directory=True)
    (allowed / "loop").symlink_to(allowed / "loop")
    (allowed / "dangling").symlink_to(tmp_path / "nowhere")
    (allowed / "out" / "link_to_secret").symlink_to(outside / "secret.txt")
    (allowed / "out" / "linkdir").symlink_to(outside, target_is_directory=True)
    # links that stay inside
    (allowed / "inner_link").symlink_to(allowed / "sub" / "inner.txt")
    (allowed / "sub" / "back").symlink_to("..", target_is_directory=True)
    # a hard link in the write folder whose other name is outside
    os.link(outside / "secret.txt", allowed / "out" / "hardlinked.txt")
    os.mkfifo(allowed / "pipe")
    return tmp_path


def permissions(tree: Path) -> FolderPermissions:
    return FolderPermissions(read=[tree / "allowed"], write=[tree / "allowed" / "out"])


READ_REFUSED = [
    "../outside/secret.txt",
    "../allowed-evil/secret.txt",
    "../top-secret.txt",
    "sub/../../outside/secret.txt",
    "sub/deeper/../../../outside/secret.txt",
    "./../outside/secret.txt",
    "link_out/secret.txt",
    "file_link",
    "evil_link",
    "sub/up/outside/secret.txt",
    "sub/up/top-secret.txt",
    "sub/up/allowed-evil/secret.txt",
    "abs_etc/passwd",
    "/etc/passwd",
    "/etc/hostname",
    "/proc/self/environ",
    "/dev/zero",
    "loop",
    "pipe",
    "sub",
    ".",
    "out/link_to_secret",
    "out/linkdir/secret.txt",
    "C:\\Windows\\win.ini",
    "C:/Windows/win.ini",
    "c:secret.txt",
    "\\\\server\\share\\secret.txt",
    "\\\\?\\C:\\secret.txt",
    "\\\\.\\PhysicalDrive0",
    "//server/share/secret.txt",
    "..\\outside\\secret.txt",
    "sub\\..\\..\\outside\\secret.txt",
    "~/.ssh/id_rsa",
    "~root/.bashrc",
    "file:///etc/passwd",
    "notes.txt\x00.png",
    "",
    "   ",
    "a/" * 600 + "x",
]

WRITE_REFUSED = [
    "../outside/new.txt",
    "../../outside/new.txt",
    "../notes.txt",  # readable, but not in the write folder
    "../sub/new.txt",
    "link_to_secret",  # an existing symlink, even without following it
    "linkdir/new.txt",  # a symlinked parent folder
    "hardlinked.txt",
    "missing-folder/new.txt",
    "..",
    ".",
    "",
    "C:\\out\\new.txt",
    "//server/share/new.txt",
    "~/new.txt",
    "/etc/new.txt",
]


@pytest.mark.parametrize("requested", READ_REFUSED)
def test_hostile_reads_are_refused(tree: Path, requested: str) -> None:
    with pytest.raises(PathNotAllowed) as caught:
        permissions(tree).resolve_for_reading(requested)
    assert caught.value.user_message and caught.value.hint
    assert isinstance(caught.value, PermissionError)


@pytest.mark.parametrize("requested", ["{tree}/allowed-evil/secret.txt", "{tree}/allowed/../outside/secret.txt",
                                       "{tree}/allowed/link_out/secret.txt", "{tree}/allowed//../top-secret.txt",
                                       "{tree}/allowed/sub/up/outside/secret.txt", "{tree}/allowed-evil"])
def test_hostile_absolute_reads_are_refused(tree: Path, requested: str) -> None:
    with pytest.raises(PathNotAllowed):
        permissions(tree).resolve_for_reading(requested.format(tree=tree))


def test_a_dangling_link_is_simply_not_found(tree: Path) -> None:
    with pytest.raises(ToolFileNotFound):
        permissions(tree).resolve_for_reading("dangling")
    with pytest.raises(ToolFileNotFound):
        permissions(tree).resolve_for_reading("no-such-file.txt")


@pytest.mark.parametrize("requested", WRITE_REFUSED)
def test_hostile_writes_are_refused(tree: Path, requested: str) -> None:
    with pytest.raises(PathNotAllowed):
        permissions(tree).resolve_for_writing(requested)


@pytest.mark.parametrize("requested,expected", [
    ("notes.txt", "allowed/notes.txt"),
    ("sub/inner.txt", "allowed/sub/inner.txt"),
    ("sub/../notes.txt", "allowed/notes.txt"),
    ("sub/back/notes.txt", "allowed/notes.txt"),
    ("inner_link", "allowed/sub/inner.txt"),
    ("out/draft.txt", "allowed/out/draft.txt"),
    ("draft.txt", "allowed/out/draft.txt"),  # found through the write folder, also readable
    ("{tree}/allowed/sub/inner.txt", "allowed/sub/inner.txt"),
])
def test_honest_reads_resolve_to_the_real_file(tree: Path, requested: str, expected: str) -> None:
    real = permissions(tree).resolve_for_reading(requested.format(tree=tree))
    assert real == (tree / expected).resolve()


@pytest.mark.parametrize("requested,expected", [
    ("new.txt", "allowed/out/new.txt"),
    ("draft.txt", "allowed/out/draft.txt"),
    ("{tree}/allowed/out/new.txt", "allowed/out/new.txt"),
    ("../out/new.txt", "allowed/out/new.txt"),
])
def test_honest_writes_resolve_inside_the_write_folder(tree: Path, requested: str, expected: str) -> None:
    assert permissions(tree).resolve_for_writing(requested.format(tree=tree)) == (tree / expected).resolve()


def test_prefix_is_not_containment(tmp_path: Path) -> None:
    (tmp_path / "allowed").mkdir()
    (tmp_path / "allowed-evil").mkdir()
    assert not is_inside((tmp_path / "allowed-evil").resolve(), (tmp_path / "allowed").resolve())
    assert not is_inside((tmp_path / "allowedx" / "f").resolve(), (tmp_path / "allowed").resolve())
    assert is_inside((tmp_path / "allowed" / "f").resolve(), (tmp_path / "allowed").resolve())


def test_a_granted_folder_reached_through_a_symlink_is_judged_by_its_real_place(tree: Path) -> None:
    alias = tree / "alias"
    alias.symlink_to(tree / "allowed", target_is_directory=True)
    granted = FolderPermissions(read=[alias])
    assert granted.resolve_for_reading("notes.txt") == (tree / "allowed" / "notes.txt").resolve()
    assert granted.resolve_for_reading(f"{alias}/notes.txt") == (tree / "allowed" / "notes.txt").resolve()
    with pytest.raises(PathNotAllowed):
        granted.resolve_for_reading(f"{alias}/../outside/secret.txt")


def test_missing_folders_are_reported_not_granted(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    granted = FolderPermissions(read=[tmp_path / "gone", tmp_path / "file"])
    assert granted.folders == []
    assert granted.missing == [tmp_path / "gone", tmp_path / "file"]
    with pytest.raises(PathNotAllowed):
        granted.resolve_for_reading("anything.txt")
    with pytest.raises(PathNotAllowed):
        granted.resolve_for_writing("anything.txt")


def test_read_only_folder_is_never_writable(tree: Path) -> None:
    granted = FolderPermissions(read=[tree / "allowed"])
    with pytest.raises(PathNotAllowed, match="no folder was allowed for writing"):
        granted.resolve_for_writing("notes.txt")


def test_open_for_reading_returns_the_checked_file(tree: Path) -> None:
    real, fd = permissions(tree).open_for_reading("sub/inner.txt")
    try:
        assert os.read(fd, 100) == b"inner"
    finally:
        os.close(fd)
    assert real.name == "inner.txt"


@pytest.mark.parametrize("text", ["C:\\x", "\\\\srv\\s", "//srv/s", "~", "http://example.com/x", "a\x00b", "",
                                  "x" * 2000])
def test_untrusted_text_refused_before_touching_the_disk(text: str) -> None:
    with pytest.raises(PathNotAllowed):
        check_untrusted_text(text)
