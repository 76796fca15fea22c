"""Text extraction from real files of every supported kind, and refusal of hostile ones."""

from __future__ import annotations

import importlib
import io
import zipfile
from pathlib import Path

import pytest

from tests.wizard.agent_documents.builders import (
    docx_document_xml,
    write_docx,
    write_encrypted_pdf,
    write_odt,
    write_pdf,
)
from wizard.agent.documents.extract import DocumentSkipped, extract

extract_module = importlib.import_module("wizard.agent.documents.extract")


def test_plain_text_and_markdown(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Grocery list\n\nmilk, eggs", encoding="utf-8")
    (tmp_path / "b.md").write_bytes("\ufeff# Café notes\n\n*bold* text".encode())
    (tmp_path / "c.txt").write_bytes("caf\xe9 au lait".encode("cp1252"))  # an old Windows file
    assert extract(tmp_path / "a.txt").text == "Grocery list\n\nmilk, eggs"
    assert extract(tmp_path / "b.md").text == "# Café notes\n\n*bold* text"
    assert extract(tmp_path / "c.txt").text == "café au lait"


def test_binary_named_txt_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "fake.txt").write_bytes(b"\x7fELF\x00\x00\x01binary")
    with pytest.raises(DocumentSkipped, match="not plain text"):
        extract(tmp_path / "fake.txt")


def test_docx_paragraphs_runs_and_tabs(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "letter.docx", ["Dear landlord,", "The heating\tbroke on Monday.", "A & B <ok>"])
    assert extract(path).text == "Dear landlord,\n\nThe heating\tbroke on Monday.\n\nA & B <ok>"


def test_odt_heading_spaces_spans_and_lists(tmp_path: Path) -> None:
    path = write_odt(tmp_path / "minutes.odt", "Meeting minutes", ["Budget  approved", "Next meeting: May"])
    assert extract(path).text == "Meeting minutes\n\nBudget  approved\n\nNext meeting: May\n\nlisted item\tend"


def test_pdf_pages_are_sections(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "report.pdf", ["Zebras graze at dawn.", "Giraffes eat acacia leaves."])
    extracted = extract(path)
    assert [label for label, _ in extracted.sections] == ["page 1", "page 2"]
    assert "Zebras graze at dawn." in extracted.sections[0][1]
    assert "Giraffes eat acacia leaves." in extracted.sections[1][1]


def test_encrypted_pdf_is_skipped_with_a_plain_reason(tmp_path: Path) -> None:
    source = write_pdf(tmp_path / "plain.pdf", ["Private numbers."])
    locked = write_encrypted_pdf(tmp_path / "locked.pdf", source)
    with pytest.raises(DocumentSkipped, match="password"):
        extract(locked)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "not_pdf", "empty"])
def test_broken_pdfs_are_skipped_never_crash(tmp_path: Path, damage: str) -> None:
    good = write_pdf(tmp_path / "good.pdf", ["Some text here."]).read_bytes()
    data = {"truncated": good[: len(good) // 3], "garbage": b"%PDF-1.7\n" + bytes(range(256)) * 40,
            "not_pdf": b"Hello, I am text", "empty": b""}[damage]
    (tmp_path / "broken.pdf").write_bytes(data)
    with pytest.raises(DocumentSkipped) as caught:
        extract(tmp_path / "broken.pdf")
    assert caught.value.user_message and caught.value.hint


def test_pdf_page_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_pdf(tmp_path / "long.pdf", [f"Page number {n} text." for n in range(1, 6)])
    monkeypatch.setattr(extract_module, "MAX_PDF_PAGES", 3)
    extracted = extract(path)
    assert [label for label, _ in extracted.sections] == ["page 1", "page 2", "page 3"]
    assert "first 3 pages" in extracted.truncated


def test_zip_bomb_is_refused_before_inflating(tmp_path: Path) -> None:
    huge = docx_document_xml(["x"]).replace("<w:sectPr/>", "<w:sectPr/>" + " " * (40 * 1024 * 1024))
    path = write_docx(tmp_path / "bomb.docx", [], document_xml=huge)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("word/document.xml")
        assert info.file_size > extract_module.MAX_XML_BYTES and info.compress_size < 200_000
    with pytest.raises(DocumentSkipped, match="too much text|zip bomb"):
        extract(path)


def test_high_compression_ratio_is_refused(tmp_path: Path) -> None:
    padded = docx_document_xml(["x"]).replace("<w:sectPr/>", "<w:sectPr/>" + " " * (5 * 1024 * 1024))
    path = write_docx(tmp_path / "ratio.docx", [], document_xml=padded)
    with pytest.raises(DocumentSkipped, match="zip bomb"):
        extract(path)


def test_xml_entities_are_refused(tmp_path: Path) -> None:
    laughs = ('<!DOCTYPE w:document [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
              '<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')
    xml = docx_document_xml(["&lol2; &xxe;"], prolog=laughs).replace("&amp;lol2; &amp;xxe;", "&lol2; &xxe;")
    path = write_docx(tmp_path / "entities.docx", [], document_xml=xml)
    with pytest.raises(DocumentSkipped, match="unusual instructions"):
        extract(path)
    odt = write_odt(tmp_path / "entities.odt", "", [], content_xml='<?xml version="1.0"?>' + laughs + "<x/>")
    with pytest.raises(DocumentSkipped, match="unusual instructions"):
        extract(odt)


@pytest.mark.parametrize("maker", ["not_zip", "missing_member", "bad_xml", "encrypted_member"])
def test_damaged_office_files_are_skipped(tmp_path: Path, maker: str) -> None:
    path = tmp_path / "broken.docx"
    if maker == "not_zip":
        path.write_bytes(b"PK\x03\x04 but not really a zip")
    elif maker == "missing_member":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("word/other.xml", "<x/>")
    elif maker == "bad_xml":
        write_docx(path, [], document_xml="<w:document><w:body>unclosed")
    else:
        write_docx(path, ["secret"])
        data = bytearray(path.read_bytes())
        buffer = io.BytesIO(bytes(data))
        with zipfile.ZipFile(buffer) as archive:
            names = archive.namelist()
        assert "word/document.xml" in names
        # set the "encrypted" flag bit of every entry in the central directory
        start = data.find(b"PK\x01\x02")
        while start >= 0:
            data[start + 8] |= 0x1
            start = data.find(b"PK\x01\x02", start + 4)
        path.write_bytes(bytes(data))
    with pytest.raises(DocumentSkipped):
        extract(path)


def test_oversized_file_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract_module, "MAX_FILE_BYTES", 1000)
    (tmp_path / "big.txt").write_text("a" * 1001)
    with pytest.raises(DocumentSkipped, match="larger than"):
        extract(tmp_path / "big.txt")
