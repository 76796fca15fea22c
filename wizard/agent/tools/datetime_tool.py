"""The current date and time in the person's own time zone.

Given as a tool (asked when needed) rather than written at the top of every prompt: a clock
in the prompt would change every turn and defeat the engine's prompt cache.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from wizard.agent.tools.base import Tool


def local_now() -> datetime:
    """Now, aware, in the computer's local time zone."""
    return datetime.now().astimezone()


def describe_now(now: datetime) -> str:
    zone = now.tzname() or now.strftime("%z")
    return (f"{now:%A %d %B %Y}, {now:%H:%M} local time ({zone}, UTC{now:%z}). "
            f"ISO: {now.isoformat(timespec='seconds')}")


def datetime_tool(*, clock: Callable[[], datetime] = local_now) -> Tool:
    return Tool(
        name="datetime",
        description="Get today's date and the current local time.",
        parameters={"type": "object", "properties": {}, "additionalProperties": False},
        run=lambda arguments: describe_now(clock()),
    )
