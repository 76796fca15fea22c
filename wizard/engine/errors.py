"""Errors the engine can raise, each with a plain message and a hint for the person."""

from __future__ import annotations

from wizard.errors import HearthError, HearthFileError, HearthNetworkError, HearthValueError


class EngineError(HearthError):
    """Something went wrong while talking to the AI model."""

    default_hint = "Try again; if it keeps happening, restart Hearth. Nothing you typed was lost."


class ModelFileError(HearthFileError):
    """The model file is missing, unreadable or not a GGUF model file."""

    default_hint = "Choose the model again in Hearth, or download it again."


class UnsafeTemplateError(EngineError, HearthValueError):
    """The model file's chat template tries to do something a template must never do."""

    default_hint = (
        "This model file may have been tampered with. Delete it and choose a model from Hearth's list."
    )


class NoChatTemplateError(EngineError, HearthValueError):
    """The model file does not say how a conversation must be written for it."""

    default_hint = "Choose another model: this one is not made for chatting, or its file is incomplete."


class EngineStartError(EngineError):
    """The local AI process could not load the model or did not start."""

    default_hint = (
        "The model may be too big for this computer or its file may be damaged. "
        "Try a smaller model or download this one again."
    )


class EngineCrashed(EngineError):
    """The local AI process stopped unexpectedly (for example llama.cpp crashed)."""

    default_hint = "Hearth can restart it for you; your conversation is still here."


class UnsafeServerSettings(EngineError, HearthValueError):
    """The server was asked to listen in a way that would expose it to other people."""

    default_hint = "Keep the local API on this computer only, and always use a token."


class EngineConnectionError(EngineError, HearthNetworkError):
    """The AI server could not be reached, or the connection broke."""

    default_hint = "Check that the AI server is running and its address is right; nothing was lost."


class EngineAuthError(EngineError, HearthNetworkError):
    """The AI server refused the key (HTTP 401/403)."""

    default_hint = "Check the key (token) for this AI server in Hearth's settings."


class EngineTimeout(EngineError, HearthNetworkError, TimeoutError):
    """The AI server took too long to answer."""

    default_hint = "The server may be busy or stuck. Try again in a moment; nothing was lost."


class EngineBusy(EngineError, HearthNetworkError):
    """The AI server is already writing another answer (HTTP 429)."""

    default_hint = "Wait for the other answer to finish, or stop it, then try again."


class EngineRequestError(EngineError, HearthValueError):
    """The AI server rejected the request (HTTP 4xx other than auth/busy), e.g. too long."""

    default_hint = "Try a shorter message or start a new conversation."


class ChatTemplateError(EngineError, HearthValueError):
    """The model's chat template is broken, or refuses this shape of conversation."""

    default_hint = "Start a new conversation; if it happens again, choose another model."
