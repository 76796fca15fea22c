"""The chat window Hearth opens every day (the main window's central area once set up).

- ``view.py``: :class:`ChatView`, the whole chat area, built from the pieces below;
- ``runner.py``: the assistant's engine and replies, run as tasks, text batched every 40 ms;
- ``conversations.py`` / ``memory_panel.py``: the list of conversations, what it remembers;
- ``messages.py`` / ``markdown_view.py``: messages shown as safe Markdown;
- ``composer.py``: the text box (Enter sends, Shift+Enter new line) and Send/Stop/Regenerate;
- ``status.py``: model, speed, memory in use; document reading progress;
- ``confirm.py``: "may it save this file?" asked from a worker thread;
- ``chat_setup.py``: :class:`ChatSetup`, what the view needs from a profile.
"""

from app.ui.chat.chat_setup import ChatSetup
from app.ui.chat.view import ChatView

__all__ = ["ChatSetup", "ChatView"]
