"""The built-in tasks by name."""
from __future__ import annotations

from superopt.tasks.base import Task, UnknownTask
from superopt.tasks.buffer import BUFFER_TASKS
from superopt.tasks.sort import SORT_TASKS

TASKS: dict[str, Task] = {t.name: t for t in SORT_TASKS + BUFFER_TASKS}


def get_task(name: str | Task) -> Task:
    """The task called `name` (a Task is its own task); UnknownTask (a SuperoptError and a
    KeyError) naming the known ones otherwise."""
    if not isinstance(name, str):
        return name
    try:
        return TASKS[name]
    except KeyError:
        raise UnknownTask("unknown task %r (known: %s)" % (name, ", ".join(TASKS))) from None
