"""Talking to a model: a local engine process or any OpenAI-compatible server, one client.

Import the heavy parts only where needed: nothing here imports llama_cpp (only the engine
process does, in :mod:`wizard.engine.generator`).
"""

from wizard.engine.client import ChatStream, ChatSummary, EngineClient
from wizard.engine.errors import (
    ChatTemplateError,
    EngineAuthError,
    EngineBusy,
    EngineConnectionError,
    EngineCrashed,
    EngineError,
    EngineRequestError,
    EngineStartError,
    EngineTimeout,
    ModelFileError,
    NoChatTemplateError,
    UnsafeServerSettings,
    UnsafeTemplateError,
)
from wizard.engine.plan import GenerationParams, LoadPlan
from wizard.engine.process import EnginePortBusy, LocalEngine, engine_command
from wizard.engine.remote import RemoteEngine

__all__ = [
    "ChatStream", "ChatSummary", "ChatTemplateError", "EngineAuthError", "EngineBusy", "EngineClient",
    "EngineConnectionError", "EngineCrashed", "EngineError", "EnginePortBusy", "EngineRequestError", "EngineStartError",
    "EngineTimeout", "GenerationParams", "LoadPlan", "LocalEngine", "ModelFileError",
    "NoChatTemplateError", "RemoteEngine", "UnsafeServerSettings", "UnsafeTemplateError", "engine_command",
]
