"""The conversation database on real SQLite files: schema, writes, search, rename, real deletion."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.support.sqlite_refusals import refusing_new_messages
from wizard.agent.database import MIGRATIONS, DatabaseError, DatabaseTooNewError, database_path, open_database
from wizard.agent.memory import MemoryStore
from wizard.agent.store import (
    BadTitleError,
    ConversationNotFoundError,
    ConversationStore,
    auto_title,
    fts_query,
)
from wizard.paths import hearth_paths


@pytest.fixture
def store() -> ConversationStore:
    with ConversationStore() as opened:
        yield opened


def test_database_lives_in_the_data_folder_with_wal_and_foreign_keys(store: ConversationStore) -> None:
    assert database_path() == hearth_paths().data / "hearth.db"
    assert database_path().is_file()
    db = store.connection
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert [tuple(row) for row in db.execute("SELECT version FROM schema_version")] == [(len(MIGRATIONS),)]
    with pytest.raises(sqlite3.IntegrityError):  # foreign keys really enforced
        db.execute("INSERT INTO messages (conversation, role, content, created) VALUES (999, 'user', 'x', 'now')")


def test_reopening_migrates_nothing_twice_and_keeps_data(store: ConversationStore) -> None:
    conversation = store.create(title="Kept")
    store.add_message(conversation.id, "user", "hello")
    store.close()
    with ConversationStore() as again:
        assert [c.title for c in again.list()] == ["Kept"]
        assert [m.content for m in again.messages(conversation.id)] == ["hello"]
        assert again.connection.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 1


def test_a_newer_schema_is_refused_without_touching_it(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    open_database(path).execute("UPDATE schema_version SET version = 99")
    with pytest.raises(DatabaseTooNewError) as caught:
        open_database(path)
    assert "newer version of Hearth" in caught.value.user_message
    assert sqlite3.connect(path).execute("SELECT version FROM schema_version").fetchone()[0] == 99


def test_a_file_that_is_not_a_database_gives_a_plain_error(tmp_path: Path) -> None:
    path = tmp_path / "hearth.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(DatabaseError) as caught:
        open_database(path)
    assert "damaged" in caught.value.user_message
    assert path.read_bytes() == b"this is not sqlite at all" * 100  # nothing overwritten


QUESTION = "How do I bake bread with an old sourdough starter at home, without a proper oven?"


def test_messages_titles_and_order(store: ConversationStore) -> None:
    first = store.create(model="m1")
    second = store.create(profile="work")
    store.add_message(first.id, "user", QUESTION)
    store.add_message(second.id, "user", "Hello")
    reply = store.add_message(first.id, "assistant", "Feed it first.", model="m1", status="partial")
    store.update_message(reply.id, content="Feed it first, then wait.", status="complete",
                         prompt_tokens=12, completion_tokens=7)

    assert [c.id for c in store.list()] == [first.id, second.id]  # most recently active first
    assert [c.id for c in store.list(profile="work")] == [second.id]
    assert store.get(first.id).title == auto_title(QUESTION)
    assert store.get(first.id).title.endswith("…") and len(store.get(first.id).title) <= 61
    stored = store.messages(first.id)
    assert [(m.role, m.content, m.status) for m in stored] == [
        ("user", QUESTION, "complete"),
        ("assistant", "Feed it first, then wait.", "complete")]
    assert (stored[1].prompt_tokens, stored[1].completion_tokens, stored[1].model) == (12, 7, "m1")


def test_an_edit_sent_again_replaces_the_later_messages_in_one_transaction(store: ConversationStore) -> None:
    conversation = store.create()
    first = store.add_message(conversation.id, "user", "What is tea?")
    store.add_message(conversation.id, "assistant", "A drink.")
    asked = store.add_message(conversation.id, "user", "And coffee?")
    store.add_message(conversation.id, "assistant", "Another drink.")
    # The insert fails after the delete has run (as a full disk would): the delete is undone with it.
    with refusing_new_messages(store.connection), pytest.raises(DatabaseError):
        store.add_message(conversation.id, "user", "And cocoa?", replacing_from=asked.id)
    assert [m.content for m in store.messages(conversation.id)] == ["What is tea?", "A drink.", "And coffee?",
                                                                    "Another drink."]
    replaced = store.add_message(conversation.id, "user", "And cocoa?", replacing_from=asked.id)
    assert [m.content for m in store.messages(conversation.id)] == ["What is tea?", "A drink.", "And cocoa?"]
    assert replaced.role == "user" and store.messages(conversation.id)[0].id == first.id
    assert store.search("coffee") == []  # the replaced words are not found any more


def test_rename_and_its_refusals(store: ConversationStore) -> None:
    conversation = store.create(title="old")
    assert store.rename(conversation.id, "  Bread   plans ").title == "Bread plans"
    with pytest.raises(BadTitleError):
        store.rename(conversation.id, "   ")
    with pytest.raises(BadTitleError):
        store.rename(conversation.id, "x" * 201)
    with pytest.raises(ConversationNotFoundError):
        store.rename(12345, "anything")
    assert store.get(conversation.id).title == "Bread plans"


@pytest.mark.parametrize("typed", ['"', 'NEAR(a b', "a AND", "OR NOT", "content:x", "*", "^x", "-x",
                                   "a) OR (b", "'; DROP TABLE messages; --", "{content}: x", "\x00"])
def test_search_never_passes_user_input_as_query_syntax(store: ConversationStore, typed: str) -> None:
    conversation = store.create()
    store.add_message(conversation.id, "user", "a plain sentence about x and content")
    store.search(typed)  # must not raise
    assert store.connection.execute("SELECT count(*) FROM messages").fetchone()[0] == 1


def test_search_finds_words_not_syntax(store: ConversationStore) -> None:
    conversation = store.create(title="Cooking")
    store.add_message(conversation.id, "user", "Is crème brûlée hard to make?")
    store.add_message(conversation.id, "assistant", "Not really: you need cream AND sugar.")
    other = store.create(profile="work")
    store.add_message(other.id, "user", "The quarterly report is due.")

    assert fts_query("crème AND") == '"crème" "AND"*'
    assert fts_query("  ::  ") == ""
    hits = store.search("creme brulee")  # accents ignored
    assert [(h.conversation, h.title, h.role) for h in hits] == [(conversation.id, "Cooking", "user")]
    assert "[crème]" in hits[0].snippet
    assert [h.role for h in store.search("cream AND sugar")] == ["assistant"]  # AND is a word here
    assert store.search("cream OR quarterly") == []  # OR is a word too, not an operator
    assert [h.conversation for h in store.search("quart")] == [other.id]  # last word as a prefix
    assert store.search("quarterly", profile="") == []
    assert store.search("") == []


def test_delete_removes_everything_for_good(store: ConversationStore) -> None:
    marker = "zanzibarquokka"
    keep = store.create(title="keep")
    store.add_message(keep.id, "user", "an unrelated message that stays")
    doomed = store.create(title=f"about {marker}")
    store.add_message(doomed.id, "user", f"my secret word is {marker}")
    store.add_message(doomed.id, "assistant", f"I will not repeat {marker}.")
    memories = MemoryStore(store)
    fact = memories.add_fact("my dog is called Rex", source_conversation=doomed.id)
    memories.set_summary(doomed.id, f"They talked about {marker}.")
    assert len(store.search(marker)) == 2

    store.delete(doomed.id)

    with pytest.raises(ConversationNotFoundError):
        store.get(doomed.id)
    assert store.search(marker) == []
    assert store.connection.execute("SELECT count(*) FROM messages WHERE conversation = ?",
                                    (doomed.id,)).fetchone()[0] == 0
    assert [m.kind for m in memories.list()] == ["fact"]  # the summary went with it, the fact stays
    assert memories.get(fact.id).source_conversation is None
    assert [m.content for m in store.messages(keep.id)] == ["an unrelated message that stays"]
    raw = b"".join(p.read_bytes() for p in database_path().parent.glob("hearth.db*"))
    assert marker.encode() not in raw  # not in the table, the search index, the log, free pages
    assert store.connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
