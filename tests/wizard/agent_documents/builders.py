"""Real documents written from scratch for the tests: .docx and .odt zips with the XML a word
processor writes (minimal but valid), and PDFs made by fpdf2 (a test-only dependency)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

DOCX_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml"
 ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>"""
DOCX_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1"
 Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
 Target="word/document.xml"/>
</Relationships>"""
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx_document_xml(paragraphs: list[str], *, prolog: str = "") -> str:
    """Each paragraph is split into two runs (as Word does), with a tab where the text has one."""
    body = []
    for text in paragraphs:
        runs = []
        for index, piece in enumerate(text.split("\t")):
            if index:
                runs.append("<w:r><w:tab/></w:r>")
            half = len(piece) // 2
            for part in (piece[:half], piece[half:]):
                if part:
                    runs.append(f'<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{escape(part)}</w:t></w:r>')
        body.append(f"<w:p><w:pPr><w:pStyle w:val=\"Normal\"/></w:pPr>{''.join(runs)}</w:p>")
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}\n'
            f'<w:document xmlns:w="{W_NS}"><w:body>{"".join(body)}<w:sectPr/></w:body></w:document>')


def write_docx(path: Path, paragraphs: list[str], *, document_xml: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", DOCX_CONTENT_TYPES)
        archive.writestr("_rels/.rels", DOCX_RELS)
        archive.writestr("word/document.xml", document_xml or docx_document_xml(paragraphs))
    return path


ODT_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"""


def odt_content_xml(heading: str, paragraphs: list[str]) -> str:
    """A heading, then paragraphs; double spaces become <text:s/>, and a list item is included."""
    def para(text: str) -> str:
        return escape(text).replace("  ", ' <text:s text:c="1"/>')

    items = "".join(f"<text:p>{para(p)}</text:p>" for p in paragraphs)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
            "<office:automatic-styles/><office:body><office:text>"
            f'<text:h text:outline-level="1">{escape(heading)}</text:h>{items}'
            '<text:list><text:list-item><text:p>listed <text:span>item</text:span><text:tab/>end</text:p>'
            "</text:list-item></text:list>"
            "</office:text></office:body></office:document-content>")


def write_odt(path: Path, heading: str, paragraphs: list[str], *, content_xml: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text",
                         compress_type=zipfile.ZIP_STORED)  # first and uncompressed, as the format requires
        archive.writestr("META-INF/manifest.xml", ODT_MANIFEST, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content_xml or odt_content_xml(heading, paragraphs),
                         compress_type=zipfile.ZIP_DEFLATED)
    return path


def write_pdf(path: Path, pages: list[str]) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    pdf.output(str(path))
    return path


def write_encrypted_pdf(path: Path, source: Path, password: str = "secret") -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    with open(path, "wb") as handle:
        writer.write(handle)
    return path
