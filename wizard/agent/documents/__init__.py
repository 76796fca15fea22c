"""The person's documents: text extraction and a full-text index the assistant searches."""

from wizard.agent.documents.extract import DocumentSkipped, Extracted, extract, is_supported
from wizard.agent.documents.index import (
    DocumentIndex,
    DocumentIndexError,
    IndexProgress,
    IndexReport,
    SearchHit,
    chunk_text,
    fts_query,
)

__all__ = ["DocumentIndex", "DocumentIndexError", "DocumentSkipped", "Extracted", "IndexProgress", "IndexReport",
           "SearchHit", "chunk_text", "extract", "fts_query", "is_supported"]
