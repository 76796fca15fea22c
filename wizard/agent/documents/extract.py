"""Plain text out of the person's documents: .txt, .md, .pdf, .docx, .odt.

Documents are untrusted input, so every reader is bounded:

- text files: at most ``MAX_FILE_BYTES`` read; a file with NUL bytes is not text;
- .docx / .odt (zip archives of XML): the uncompressed size written in the zip's directory is
  checked before anything is inflated, then the read itself is capped too (a directory can lie),
  and the compression ratio is bounded (zip bombs); the XML is refused if it declares a DTD or
  entities (a real document never does: that is how XML bombs and external entities come in),
  and it is parsed with the standard library's expat, which never fetches anything;
- .pdf: pypdf (pure Python; decoding PDF's compressed streams, fonts and text operators by hand
  is not reasonable), with a page limit and a time limit; an encrypted or broken PDF is skipped
  with a plain reason.

Every failure is a :class:`DocumentSkipped` with a plain ``user_message``; indexing records it
and goes on.
"""

from __future__ import annotations

import io
import time
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from wizard.errors import HearthValueError

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".pdf", ".docx", ".odt")
MAX_FILE_BYTES = 50 * 1024 * 1024  # the file on disk
MAX_XML_BYTES = 30 * 1024 * 1024  # one uncompressed XML member of a docx/odt
MAX_COMPRESSION_RATIO = 200
MAX_TEXT_CHARS = 2_000_000  # text kept from one document
MAX_PDF_PAGES = 2000
PDF_TIME_LIMIT = 60.0  # seconds for one PDF

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


class DocumentSkipped(HearthValueError):
    """A document could not be read; ``user_message`` says why, plainly."""

    default_hint = "The other documents are still searchable. Save this one again or as another format."


@dataclass
class Extracted:
    """A document's text in sections (one per PDF page; one for other formats).

    ``sections`` are ``(label, text)``, label like ``"page 3"`` or ``""``. ``truncated`` says a
    limit stopped reading early (the text is then the beginning of the document).
    """

    sections: list[tuple[str, str]] = field(default_factory=list)
    truncated: str = ""

    @property
    def text(self) -> str:
        return "\n\n".join(text for _, text in self.sections)


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def extract(path: Path, *, data: bytes | None = None) -> Extracted:
    """Read ``path`` (or its already read bytes ``data``) into text.

    Raises:
        DocumentSkipped: unsupported, too large, damaged, encrypted or not really that format.
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentSkipped(f"Hearth cannot read {suffix or 'this kind of'} files.")
    if data is None:
        data = read_capped(path)
    if suffix == ".pdf":
        return _pdf(data)
    if suffix == ".docx":
        return _single(_docx(data))
    if suffix == ".odt":
        return _single(_odt(data))
    return _single(_plain_text(data))


def read_capped(path: Path, limit: int | None = None) -> bytes:
    """The file's bytes, refusing files over ``limit``.

    Raises:
        DocumentSkipped: too large, or it cannot be opened.
    """
    limit = MAX_FILE_BYTES if limit is None else limit
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise DocumentSkipped("This file could not be opened.", details=repr(exc)) from exc
    if len(data) > limit:
        raise DocumentSkipped(f"This file is larger than {limit // (1024 * 1024)} MB, too large to index.")
    return data


def _single(text: str) -> Extracted:
    truncated = ""
    if len(text) > MAX_TEXT_CHARS:
        text, truncated = text[:MAX_TEXT_CHARS], f"only the first {MAX_TEXT_CHARS} characters were kept"
    return Extracted([("", text)], truncated)


# -- plain text ----------------------------------------------------------------------------------

def _plain_text(data: bytes) -> str:
    if b"\x00" in data[:65536]:
        raise DocumentSkipped("This file is not plain text, although its name says so.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # older Windows text files


# -- zip + XML formats ---------------------------------------------------------------------------

def _zip_member(data: bytes, name: str, kind: str) -> bytes:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise DocumentSkipped(f"This {kind} file is damaged (it is not a valid {kind} file).",
                              details=repr(exc)) from exc
    with archive:
        try:
            info = archive.getinfo(name)
        except KeyError as exc:
            raise DocumentSkipped(f"This {kind} file is damaged: its text is missing.", details=name) from exc
        if info.flag_bits & 0x1:
            raise DocumentSkipped(f"This {kind} file is protected by a password.")
        if info.file_size > MAX_XML_BYTES:
            raise DocumentSkipped(f"This {kind} file holds too much text to index.",
                                  details=f"{name}: {info.file_size} bytes uncompressed")
        if info.compress_size and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO:
            raise DocumentSkipped(f"This {kind} file looks built to overload programs (a zip bomb).",
                                  details=f"{name}: ratio {info.file_size / info.compress_size:.0f}")
        try:
            with archive.open(info) as member:
                content = member.read(MAX_XML_BYTES + 1)  # the directory may lie about the size
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
            raise DocumentSkipped(f"This {kind} file is damaged.", details=repr(exc)) from exc
    if len(content) > MAX_XML_BYTES:
        raise DocumentSkipped(f"This {kind} file holds too much text to index.")
    return content


def _parse_xml(content: bytes, kind: str) -> ET.Element:
    head = content[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in content.upper():
        raise DocumentSkipped(f"This {kind} file contains unusual instructions, so Hearth did not read it.",
                              details="XML declares a DTD or entities")
    try:
        return ET.fromstring(content)
    except ET.ParseError as exc:
        raise DocumentSkipped(f"This {kind} file is damaged.", details=repr(exc)) from exc


def _docx(data: bytes) -> str:
    root = _parse_xml(_zip_member(data, "word/document.xml", "Word"), "Word")
    paragraphs = []
    for paragraph in root.iter(_W + "p"):
        parts = []
        for node in paragraph.iter():
            if node.tag == _W + "t" and node.text:
                parts.append(node.text)
            elif node.tag == _W + "tab":
                parts.append("\t")
            elif node.tag in (_W + "br", _W + "cr"):
                parts.append("\n")
        paragraphs.append("".join(parts))
    return "\n\n".join(p for p in paragraphs if p.strip())


def _odt(data: bytes) -> str:
    root = _parse_xml(_zip_member(data, "content.xml", "OpenDocument"), "OpenDocument")
    body = root.find(_OFFICE + "body")
    paragraphs: list[str] = []
    _odt_walk(body if body is not None else root, paragraphs, None)
    return "\n\n".join(p for p in paragraphs if p.strip())


def _odt_walk(node: ET.Element, paragraphs: list[str], current: list[str] | None) -> None:
    is_paragraph = node.tag in (_TEXT + "p", _TEXT + "h")
    if is_paragraph:
        current = []
    if current is not None:
        if node.tag == _TEXT + "s":
            current.append(" " * min(int(node.get(_TEXT + "c", "1") or 1), 100))
        elif node.tag == _TEXT + "tab":
            current.append("\t")
        elif node.tag == _TEXT + "line-break":
            current.append("\n")
        elif node.text:
            current.append(node.text)
    for child in node:
        _odt_walk(child, paragraphs, current)
        if current is not None and child.tail:
            current.append(child.tail)
    if is_paragraph:
        paragraphs.append("".join(current))


# -- PDF -----------------------------------------------------------------------------------------

def _pdf(data: bytes) -> Extracted:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about odd files are not ours
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise DocumentSkipped("This file is not a PDF, although its name says so.")
    started = time.monotonic()
    # pypdf raises many exception types on hostile or broken files; any of them means "damaged".
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except (FileNotDecryptedError, NotImplementedError, PdfReadError) as exc:
                raise DocumentSkipped("This PDF is protected by a password.", details=repr(exc)) from exc
            if not opened:
                raise DocumentSkipped("This PDF is protected by a password.")
        page_count = len(reader.pages)
    except DocumentSkipped:
        raise
    except Exception as exc:  # noqa: BLE001 - see above
        raise DocumentSkipped("This PDF is damaged and could not be read.", details=repr(exc)) from exc
    result = Extracted()
    kept = 0
    for number in range(min(page_count, MAX_PDF_PAGES)):
        if time.monotonic() - started > PDF_TIME_LIMIT:
            result.truncated = f"reading stopped after {PDF_TIME_LIMIT:.0f} seconds, at page {number + 1}"
            break
        try:
            text = reader.pages[number].extract_text() or ""
        except Exception as exc:  # noqa: BLE001 - one bad page does not spoil the others
            result.truncated = f"page {number + 1} could not be read ({type(exc).__name__})"
            continue
        if kept + len(text) > MAX_TEXT_CHARS:
            result.truncated = f"only the first {MAX_TEXT_CHARS} characters were kept"
            break
        kept += len(text)
        result.sections.append((f"page {number + 1}", text))
    else:
        if page_count > MAX_PDF_PAGES:
            result.truncated = f"only the first {MAX_PDF_PAGES} pages were read"
    if not any(text.strip() for _, text in result.sections):
        raise DocumentSkipped("This PDF has no text Hearth can read (it may be scanned pictures).")
    return result
