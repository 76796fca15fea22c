"""Memory: explicit "remember that" requests, the person's own list, and the prompt block."""

from __future__ import annotations

import pytest

from wizard.agent.memory import (
    FACTS_HEADER,
    BadMemoryError,
    MemoryNotFoundError,
    MemoryPolicy,
    MemoryStore,
    detect_remember_request,
    is_preference,
    memory_block,
)
from wizard.agent.store import ConversationStore
from wizard.agent.tokens import EstimatingTokenCounter


@pytest.mark.parametrize(("said", "fact"), [
    ("remember that my daughter is called Ana", "my daughter is called Ana"),
    ("Remember that my daughter is called Ana. What should I get her?", "my daughter is called Ana"),
    ("Please remember that I am allergic to peanuts!", "I am allergic to peanuts"),
    ("Can you please remember that our wifi password is on the fridge?", "our wifi password is on the fridge"),
    ("Hey Hearth, don't forget that the car is due for service in May", "the car is due for service in May"),
    ("remember: I prefer short answers", "I prefer short answers"),
    ("Keep in mind that I live in Porto, please", "I live in Porto"),
    ("REMEMBER THAT MY CAT IS TOM", "MY CAT IS TOM"),
])
def test_explicit_requests_are_found(said: str, fact: str) -> None:
    assert detect_remember_request(said) == fact


@pytest.mark.parametrize("said", [
    "Do you remember that I told you about Ana?",
    "I remember that summer in Lisbon.",
    "remember to buy milk",
    "Remember that?",
    "remember that x",
    "What should I remember about photosynthesis?",
    "remember that " + "very long " * 80,
])
def test_other_sentences_are_not_requests(said: str) -> None:
    assert detect_remember_request(said) is None


@pytest.fixture
def stores() -> tuple[ConversationStore, MemoryStore]:
    with ConversationStore() as conversations:
        yield conversations, MemoryStore(conversations)


def test_the_person_can_list_edit_and_delete_every_memory(stores) -> None:
    conversations, memories = stores
    chat = conversations.create()
    ana = memories.add_fact("my daughter is called Ana", source_conversation=chat.id)
    rex = memories.add_fact("  my dog   is called Rex ")
    summary = memories.set_summary(chat.id, "We planned Ana's birthday.")
    assert memories.add_fact("my daughter is called Ana").id == ana.id  # no duplicates

    listed = memories.list()
    assert [(m.kind, m.content) for m in listed] == [
        ("fact", "my dog is called Rex"), ("fact", "my daughter is called Ana"),
        ("summary", "We planned Ana's birthday.")]
    assert listed[1].source_conversation == chat.id and listed[2].conversation == chat.id

    assert memories.edit(rex.id, "my dog is called Max").content == "my dog is called Max"
    assert memories.set_summary(chat.id, "We planned a party.").id == summary.id  # one per conversation
    memories.delete(ana.id)
    assert [m.content for m in memories.list()] == ["my dog is called Max", "We planned a party."]
    with pytest.raises(MemoryNotFoundError):
        memories.delete(ana.id)
    with pytest.raises(BadMemoryError):
        memories.add_fact("   ")
    with pytest.raises(BadMemoryError):
        memories.edit(rex.id, "x" * 501)
    assert memories.list(profile="someone else") == []


def test_memory_block_keeps_within_budget_in_a_stable_order(stores) -> None:
    conversations, memories = stores
    counter = EstimatingTokenCounter()
    current, old = conversations.create(), conversations.create()
    for number in range(30):
        memories.add_fact(f"fact number {number} about the family")
    memories.set_summary(old.id, "Earlier we talked about bread.")
    memories.set_summary(current.id, "This very conversation.")

    block, left_out = memory_block(memories.list(), budget_tokens=10_000, counter=counter,
                                   exclude_conversation=current.id)
    assert left_out == 0
    assert block.index("fact number 29") < block.index("fact number 0 ") < block.index("bread")
    assert "This very conversation" not in block  # its own summary is not fed back to it
    assert block.startswith("What you remember") and FACTS_HEADER in block

    small, left_out = memory_block(memories.list(), budget_tokens=150, counter=counter)
    assert counter.count(small) <= 150 and left_out > 0
    assert "fact number 29" in small and "fact number 0 " not in small  # newest first
    assert memory_block(memories.list(), budget_tokens=150, counter=counter)[0] == small  # same every time
    assert memory_block([], budget_tokens=150, counter=counter) == ("", 0)


@pytest.mark.parametrize(("fact", "preference"), [
    ("I prefer short answers", True),
    ("I'd rather have answers in French", True),
    ("I don't like emojis in answers", True),
    ("always answer in bullet points", True),
    ("call me Sam", True),
    ("my daughter is called Ana", False),
    ("I live in Porto", False),
    ("the car is due for service in May", False),
    ("I am allergic to peanuts", False),
])
def test_preferences_are_told_apart_from_other_facts(fact: str, preference: bool) -> None:
    assert is_preference(fact) is preference


def test_the_policy_is_the_shipped_recipes_memory_section() -> None:
    from wizard.recipes import shipped_recipes

    policies = {loaded.recipe.id: MemoryPolicy.from_recipe(loaded.recipe.memory) for loaded in shipped_recipes()}
    assert policies["private-document-helper"] == MemoryPolicy(facts=False, preferences=False, summaries=False)
    assert not policies["private-document-helper"].enabled
    assert policies["writing-desk"] == MemoryPolicy(facts=False, preferences=True, summaries=False)
    assert policies["study-buddy"] == MemoryPolicy(facts=True, preferences=False, summaries=True)
    assert policies["small-business-back-office"] == MemoryPolicy()  # all three
    writing = policies["writing-desk"]
    assert writing.may_keep_fact("I prefer short answers") and not writing.may_keep_fact("my cat is Tom")
    assert policies["study-buddy"].may_keep_fact("I prefer short answers")  # a fact they asked for
