"""The recipes that come with Hearth: valid, plain, and working end to end on the real tiny model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from wizard.catalog import load_catalog
from wizard.recipes import load_recipe, shipped_recipe_files, shipped_recipes
from wizard.recipes.schema import Recipe

# One user message per shipped recipe, the kind of thing its person would really ask.
FIRST_MESSAGES = {
    "everyday-assistant": "What should I pack for a weekend trip to the seaside?",
    "private-document-helper": "Here is a passage from my lease: 'Rent is due on the first day "
                               "of each month.' When is my rent due?",
    "writing-desk": "Please improve this sentence: 'me and him goes to the shop yesterday.'",
    "small-business-back-office": "Notes: customer Maria, fixed the kitchen tap on Monday, "
                                  "invoice sent. Draft a short follow-up email.",
    "study-buddy": "Can you explain what photosynthesis is?",
}
EXPECTED = {"everyday-assistant", "private-document-helper", "writing-desk",
            "small-business-back-office", "study-buddy"}


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home


def _recipes() -> list[Recipe]:
    return [loaded.recipe for loaded in shipped_recipes()]


def test_the_five_shipped_recipes_are_valid_with_no_notes(user_home: Path) -> None:
    loaded = shipped_recipes()
    assert {item.recipe.id for item in loaded} == EXPECTED
    for item in loaded:
        assert item.notes == (), [str(n) for n in item.notes]
        assert item.recipe.source is not None and item.recipe.source.stem == item.recipe.id
        for folder in item.recipe.document_folders:
            assert folder.path == user_home / "Documents" and folder.exists
    assert set(FIRST_MESSAGES) == EXPECTED


def test_shipped_recipes_suit_small_models_and_ask_before_writing(user_home: Path) -> None:
    catalog = load_catalog()
    for recipe in _recipes():
        assert recipe.model.min_size == "tiny"
        small = [e for e in catalog.entries if recipe.model.accepts(e) and e.parameters < 4.5e9]
        assert small, f"{recipe.id}: no model of 4B or less in the catalog meets its needs"
        assert recipe.writes_without_asking == ()
        assert not recipe.local_api_offered and not recipe.integrations
        assert len(recipe.description) <= 120 and "\n" not in recipe.description


@pytest.fixture(scope="module")
def llama(tiny_model: Path) -> Iterator[object]:
    from llama_cpp import Llama

    model = Llama(model_path=str(tiny_model), n_ctx=1024, n_threads=2, verbose=False)
    yield model
    model.close()


def test_persona_prompts_are_short_for_small_models(llama: object) -> None:
    for recipe in _recipes():
        tokens = llama.tokenize(recipe.persona.system_prompt.encode("utf-8"), add_bos=False)
        greeting = llama.tokenize(recipe.persona.greeting.encode("utf-8"), add_bos=False)
        assert 20 <= len(tokens) <= 120, (recipe.id, len(tokens))
        assert 3 <= len(greeting) <= 40, (recipe.id, len(greeting))


@pytest.mark.slow
@pytest.mark.parametrize("recipe_file", shipped_recipe_files(), ids=lambda p: p.stem)
def test_recipe_runs_end_to_end_on_the_tiny_model(recipe_file: Path, llama: object,
                                                  user_home: Path) -> None:
    recipe = load_recipe(recipe_file).recipe
    messages = recipe.opening_messages()
    assert messages[0]["role"] == "system" and messages[0]["content"].strip()
    assert messages[1]["role"] == "assistant" and messages[1]["content"].endswith(("?", "."))
    question = FIRST_MESSAGES[recipe.id]
    messages.append({"role": "user", "content": question})

    settings = {**recipe.sampling.as_kwargs(), "temperature": 0.0, "max_tokens": 48}
    result = llama.create_chat_completion(messages=messages, seed=1, **settings)

    choice = result["choices"][0]
    reply = choice["message"]["content"].strip()
    assert choice["message"]["role"] == "assistant"
    assert choice["finish_reason"] in ("stop", "length")
    assert len(reply.split()) >= 3, reply
    for prompt_text in (question, recipe.persona.system_prompt.strip(), recipe.persona.greeting):
        assert reply.lower() != prompt_text.lower()
        assert not prompt_text.lower().startswith(reply.lower()), reply
    assert result["usage"]["prompt_tokens"] > len(llama.tokenize(question.encode(), add_bos=False))
