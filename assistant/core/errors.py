"""Errors a user can act on.

Every error carries a message (what happened) and a hint (what to do). They are raised at the
boundary where the cause is known, so the front ends only have to show them.
"""

from __future__ import annotations


class HearthError(Exception):
    """Base of every error Hearth shows to a user."""

    hint: str = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def user_text(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class SettingsError(HearthError):
    hint = "Fix the value in settings.json or delete the file to return to the defaults."


class ModelError(HearthError):
    """The model file cannot be used."""

    hint = "Choose another .gguf file in the settings or with --model."


class ModelNotFoundError(ModelError):
    pass


class NotGGUFError(ModelError):
    pass


class CorruptModelError(ModelError):
    hint = "The file is damaged or incomplete: download it again, or choose another .gguf file."


class MissingChatTemplateError(ModelError):
    hint = (
        "This looks like a base model. Use an instruct/chat model, or set a chat format "
        "('chatml', 'gemma', 'llama3', 'mistral', 'qwen2.5') in the settings or with --chat-format."
    )


class ModelLoadError(ModelError):
    hint = "Try a smaller context length, fewer GPU layers, or a smaller (more quantized) model."


class PromptError(HearthError):
    """The user's input cannot be sent as it is."""


class EmptyPromptError(PromptError):
    hint = "Type a message first."


class PromptTooLongError(PromptError):
    hint = "Shorten the message, or raise the context length in the settings if the model allows it."


class TemplateError(HearthError):
    hint = "The model's chat template failed. Set a chat format explicitly in the settings."


class EngineError(HearthError):
    """Generation failed after it started."""

    hint = "Try again; if it keeps failing, check the model and the engine settings."


class RemoteEngineError(EngineError):
    hint = "Check that the server is running and that the URL and model name in the settings are right."


class ConversationNotFoundError(HearthError):
    hint = "List conversations with 'hearth conversations list'."


class ImportFormatError(HearthError):
    hint = "Import a file written by 'hearth conversations export --format json'."


class DownloadError(HearthError):
    """A model download failed; what was received is kept where that helps."""

    hint = "Run the same download again: it resumes from where it stopped."


class DownloadNotFoundError(DownloadError):
    hint = "Check the repository and file name (and the revision) on the hub; names are case-sensitive."


class DownloadRefusedError(DownloadError):
    hint = "The repository may be gated or private: accept its licence on the hub and set HF_TOKEN, or pick another."


class DownloadHashError(DownloadError):
    hint = "The file was deleted. Download it again; if it keeps failing, the mirror serves a damaged file."


class DiskFullError(DownloadError):
    hint = "Free some disk space (or remove models you no longer use), then download again."


class DownloadExistsError(DownloadError):
    hint = "It is already in the models folder; delete that file first to download it again."


class StorageError(HearthError):
    """A database file cannot be read or written; each kind says what to do about it."""

    hint = "Check the file and the folder it is in, then start Hearth again."


class StorageFullError(StorageError):
    hint = "The disk is full: free some space, then try again. Nothing already saved was lost."


class StorageReadOnlyError(StorageError):
    hint = (
        "Hearth cannot write there: make the folder writable (or set HEARTH_HOME to a writable folder),"
        " then start Hearth again. The file itself is fine; do not move it."
    )


class StorageLockedError(StorageError):
    hint = "Another program is holding the database: close it (or wait a moment) and try again."


class StorageDamagedError(StorageError):
    hint = "Hearth will not overwrite it. Move the file aside to start afresh, or restore it from a backup."


class StorageTooNewError(StorageError):
    hint = "A newer version of Hearth wrote it: update Hearth to open it. The file is left as it is."
