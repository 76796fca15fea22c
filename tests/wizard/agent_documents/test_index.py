"""The document index on real files: search with file paths, incremental updates, progress,
cancel, skipped files, symlinks and revoked folders."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from tests.wizard.agent_documents.builders import write_docx, write_encrypted_pdf, write_odt, write_pdf
from wizard.agent.documents.extract import Extracted
from wizard.agent.documents.index import DocumentIndex, IndexProgress, chunk_text, fts_query
from wizard.paths import hearth_paths


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """One granted folder holding one real file of each kind, each with its own unusual word."""
    folder = tmp_path / "Documents"
    (folder / "letters").mkdir(parents=True)
    (folder / "recipes.txt").write_text("Grandmother's pancakes need buttermilk.\n\nServe warm.")
    (folder / "garden.md").write_text("# Garden\n\nPlant the tomatoes after the frost.")
    write_docx(folder / "letters" / "landlord.docx", ["Dear landlord,", "The radiator leaks again."])
    write_odt(folder / "minutes.odt", "Minutes", ["The committee approved the bicycle shed."])
    write_pdf(folder / "insurance.pdf", ["Policy summary.", "The deductible is 250 euros."])
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff not indexed")
    (folder / ".hidden.txt").write_text("invisible")
    return folder


def test_index_lives_where_it_is_told(tmp_path: Path) -> None:
    db_path = hearth_paths().data / "profiles" / "home" / "documents.sqlite"
    DocumentIndex(db_path)
    assert db_path.is_file()
    assert sqlite3.connect(db_path).execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_every_kind_is_searchable_and_cites_its_file(tmp_path: Path, library: Path) -> None:
    index = DocumentIndex(tmp_path / "index.sqlite")
    report = index.update([library])
    assert sorted(Path(p).name for p in report.added) == [
        "garden.md", "insurance.pdf", "landlord.docx", "minutes.odt", "recipes.txt"]
    assert report.skipped == {}
    for word, name, location in [("buttermilk", "recipes.txt", "part 1"), ("tomatoes", "garden.md", "part 1"),
                                 ("radiator", "landlord.docx", "part 1"), ("bicycle", "minutes.odt", "part 1"),
                                 ("deductible", "insurance.pdf", "page 2")]:
        hits = index.search(f"what about the {word}?")
        assert hits, word
        assert Path(hits[0].path) == (library / name).resolve() or Path(hits[0].path).name == name
        assert hits[0].location == location
        assert word in hits[0].snippet.lower()
    assert index.search("invisible") == []  # hidden files are left out
    assert index.search("") == [] and index.search("?!") == []


def test_reindex_touches_only_what_changed(tmp_path: Path, library: Path) -> None:
    index = DocumentIndex(tmp_path / "index.sqlite")
    index.update([library])

    again = index.update([library])
    assert again.extracted == [] and again.added == again.updated == again.removed == []
    assert again.unchanged == 5

    (library / "garden.md").write_text("# Garden\n\nPlant the courgettes in June.")
    os.utime(library / "recipes.txt", ns=(1_000_000_000, 1_000_000_000))  # touched, same bytes
    report = index.update([library])
    assert report.extracted == [str((library / "garden.md").resolve())]
    assert report.updated == [str((library / "garden.md").resolve())]
    assert report.unchanged == 4
    assert index.search("courgettes") and not index.search("tomatoes")
    assert index.search("buttermilk")

    (library / "minutes.odt").unlink()
    (library / "new.txt").write_text("The piano tuner comes Tuesday.")
    report = index.update([library])
    assert report.removed == [str((library / "minutes.odt").resolve())]
    assert report.added == [str((library / "new.txt").resolve())]
    assert report.extracted == [str((library / "new.txt").resolve())]
    assert not index.search("bicycle") and index.search("piano")


def test_progress_counts_every_file(tmp_path: Path, library: Path) -> None:
    seen: list[IndexProgress] = []
    DocumentIndex(tmp_path / "index.sqlite").update([library], progress=seen.append)
    assert [p.done for p in seen] == [0, 1, 2, 3, 4, 5]
    assert {p.total for p in seen} == {5}
    assert all(Path(p.current).exists() for p in seen[:-1]) and seen[-1].current == ""


def test_cancel_leaves_a_consistent_index(tmp_path: Path, library: Path) -> None:
    index = DocumentIndex(tmp_path / "index.sqlite")
    index.update([library])
    (library / "recipes.txt").unlink()  # would be removed by a complete update
    for name in ("garden.md", "new.txt"):
        (library / name).write_text(f"Fresh text about walruses in {name}.")
    cancel = threading.Event()

    def stop_after_first(progress: IndexProgress) -> None:
        if progress.done == 1:
            cancel.set()

    report = index.update([library], progress=stop_after_first, cancel=cancel)
    assert report.cancelled
    assert len(report.extracted) == 1  # one file was done before the cancel
    assert report.removed == []  # nothing is removed by an incomplete walk
    files = index.files()
    assert all(info["chunks"] > 0 for info in files.values())
    hits = {Path(hit.path).name for hit in index.search("walruses")}
    assert len(hits) == 1
    # no orphan passages: every passage belongs to a file the index lists
    db = sqlite3.connect(tmp_path / "index.sqlite")
    assert db.execute("SELECT COUNT(*) FROM chunks WHERE path NOT IN (SELECT path FROM files)").fetchone() == (0,)
    assert db.execute("SELECT SUM(chunks) FROM files").fetchone()[0] == db.execute(
        "SELECT COUNT(*) FROM chunks").fetchone()[0]

    finished = index.update([library])
    assert not finished.cancelled
    assert {Path(hit.path).name for hit in index.search("walruses")} == {"garden.md", "new.txt"}
    assert [Path(p).name for p in finished.removed] == ["recipes.txt"]


def test_unreadable_documents_are_recorded_not_fatal(tmp_path: Path, library: Path) -> None:
    write_encrypted_pdf(library / "locked.pdf", library / "insurance.pdf")
    (library / "broken.docx").write_bytes(b"PK\x03\x04 nonsense")
    index = DocumentIndex(tmp_path / "index.sqlite")
    report = index.update([library])
    assert set(map(lambda p: Path(p).name, report.skipped)) == {"locked.pdf", "broken.docx"}
    assert "password" in report.skipped[str((library / "locked.pdf").resolve())]
    files = index.files()
    assert files[str((library / "broken.docx").resolve())]["status"] == "skipped"
    assert index.search("radiator")  # the good files are all there
    again = index.update([library])
    assert again.extracted == []  # a skipped file is not retried until it changes


def test_symlinks_out_of_the_folder_are_not_indexed(tmp_path: Path, library: Path) -> None:
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "diary.txt").write_text("My secret flamingo diary.")
    (library / "diary-link.txt").symlink_to(outside / "diary.txt")
    (library / "private-folder").symlink_to(outside, target_is_directory=True)
    (library / "inside-link.txt").symlink_to(library / "recipes.txt")
    index = DocumentIndex(tmp_path / "index.sqlite")
    index.update([library])
    assert index.search("flamingo") == []
    assert len(index.search("buttermilk")) == 1  # the inside link is the same file, indexed once


def test_revoked_folder_leaves_the_index(tmp_path: Path, library: Path) -> None:
    other = tmp_path / "Work"
    other.mkdir()
    (other / "plan.txt").write_text("Quarterly kangaroo plan.")
    index = DocumentIndex(tmp_path / "index.sqlite")
    index.update([library, other])
    assert index.search("kangaroo")
    report = index.update([library])
    assert [Path(p).name for p in report.removed] == ["plan.txt"]
    assert index.search("kangaroo") == []


def test_chunks_follow_paragraphs_and_record_positions() -> None:
    paragraphs = [f"Paragraph {n} " + "word " * 60 for n in range(40)]
    text = "\n\n".join(paragraphs)
    chunks = chunk_text(Extracted([("", text)]))
    assert len(chunks) > 5
    assert all(len(c.text) <= 2000 for c in chunks)
    assert [c.location for c in chunks] == [f"part {n}" for n in range(1, len(chunks) + 1)]
    for chunk in chunks:
        assert text[chunk.start:chunk.start + 40] == chunk.text[:40]
        assert chunk.text.startswith("Paragraph ")
    one_long = chunk_text(Extracted([("page 7", "x" * 5000)]))
    assert [len(c.text) for c in one_long] == [1500, 1500, 2000]  # the rest fits under the maximum
    assert {c.location for c in one_long} == {"page 7"}


def test_fts_query_never_passes_syntax_through() -> None:
    assert fts_query('radiator NEAR(leak) OR "x" AND col:*') == '"radiator" OR "near" OR "leak" OR "col"'
    assert fts_query("") == ""
