"""The recipes that come with Hearth: valid, plain, and working end to end on the real tiny model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from wizard.catalog import load_catalog
from wizard.recipes import shipped_recipe_files, shipped_recipes
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


LEASE = ("Lease for the flat at 4 Harbour Lane.\n\nThe rent is 750 euros a month and is due on the first "
         "day of each month. The deposit is two months of rent.\n")


@pytest.mark.slow
@pytest.mark.parametrize("recipe_file", shipped_recipe_files(), ids=lambda p: p.stem)
def test_recipe_runs_end_to_end_on_the_tiny_model(recipe_file: Path, tiny_model: Path, user_home: Path,
                                                  tmp_path: Path) -> None:
    """Provision the recipe for real, start its engine, and get one reply through its own tools."""
    from dataclasses import replace

    from wizard.agent import ChatSession, ConversationStore, counter_for
    from wizard.agent.memory import MemoryPolicy
    from wizard.agent.tools.for_profile import DOCUMENT_INDEX_FILE, tools_for_profile
    from wizard.profiles import chat_settings, engine_for, load_profile
    from wizard.provision import load_answers, provision

    (user_home / "Documents" / "lease.txt").write_text(LEASE, encoding="utf-8")
    recipe_id = recipe_file.stem
    answers = tmp_path / "answers.toml"
    answers.write_text(f'schema_version = 1\nrecipe = "{recipe_id}"\nmodel = "{tiny_model}"\nperson_name = "Ada"\n'
                       "verify = false\n", encoding="utf-8")  # one engine start per recipe: the chat below
    provision(load_answers(answers))  # the path `hearth provision` takes
    profile = load_profile(recipe_id)
    recipe = profile.recipe
    assert profile.person_name == "Ada" and profile.model_path == tiny_model

    asked: list[Path] = []
    tools = tools_for_profile(profile, confirm=lambda path, _preview: asked.append(path) or False)
    expected = {name for tool in recipe.tools
                for name in (("notes_write", "notes_search") if tool.name == "notes" else (tool.name,))}
    assert set(tools) == expected  # every tool the recipe enables, and no other
    if "documents_search" in tools:  # the chat window fills this index from the granted folders
        from wizard.agent.documents.index import DocumentIndex

        index = DocumentIndex(profile.folder / DOCUMENT_INDEX_FILE)
        report = index.update([folder.path for folder in recipe.document_folders])
        assert report.added == [str(user_home / "Documents" / "lease.txt")]
        assert [hit.path for hit in index.search("when is the rent due")] == report.added

    system_prompt, params = chat_settings(profile)
    params = replace(params, temperature=0.0, seed=1, max_tokens=min(params.max_tokens, 96))
    store = ConversationStore()
    with engine_for(profile) as engine:
        session = ChatSession(store, engine, counter=counter_for(engine.model_path),
                              n_ctx=int(engine.ready_info.get("n_ctx") or engine.plan.n_ctx), model=profile.model_name,
                              profile=profile.id, system_prompt=system_prompt, params=params, tools=tools or None,
                              memory=MemoryPolicy.from_recipe(recipe.memory))
        result = session.send(FIRST_MESSAGES[recipe_id])
    reply = result.reply
    assert reply is not None and reply.role == "assistant" and reply.status == "complete"
    assert len(reply.content.split()) >= 3, reply.content
    assert reply.content.strip().lower() != FIRST_MESSAGES[recipe_id].lower()
    saved = store.messages(session.conversation_id)
    assert [(m.role, m.content) for m in saved] == [("user", FIRST_MESSAGES[recipe_id]), ("assistant", reply.content)]
    assert store.get(session.conversation_id).profile == recipe_id
    assert asked == []  # nothing was written behind the person's back
