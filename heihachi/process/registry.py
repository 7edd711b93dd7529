"""Process tasks by name: built-ins and plugins through the ``register_process_tasks`` hook.

Built-in task modules are the ``heihachi.process.tasks_*`` modules (found by name, so
a new module of tasks needs no edit here); installed packages implement the hook in
the module their ``heihachi`` entry point names (the plugin registry loads those);
``process.modules=[my.module]`` imports more for one run. A module that fails to
import, or a hook that raises, is a :class:`~heihachi.errors.PluginError` naming it:
a pipeline silently missing a task would be worse than no run.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any

from heihachi.errors import ConfigError, PluginError
from heihachi.process.task import ProcessContext, ProcessTask

_BUILTIN_PREFIX = "tasks_"


def builtin_task_modules() -> list[str]:
    """``heihachi.process.tasks_*``, sorted."""
    import heihachi.process as pkg

    return sorted(f"{pkg.__name__}.{m.name}" for m in pkgutil.iter_modules(pkg.__path__)
                  if m.name.startswith(_BUILTIN_PREFIX))


def _add(module_name: str, package: str) -> None:
    from heihachi import __version__
    from heihachi.registry import get_registry

    try:
        module = importlib.import_module(module_name)
    except Exception as e:
        raise PluginError(f"process task module {module_name} failed to import: "
                          f"{type(e).__name__}: {e}") from e
    get_registry().add_module(module, package, __version__ if package == "heihachi" else "?")


def task_registry(modules: list[str] | tuple[str, ...] = ()) -> dict[str, type[ProcessTask]]:
    """Every registered task class by name (built-ins, entry points, ``modules``)."""
    from heihachi.registry import get_registry

    for name in builtin_task_modules():
        _add(name, "heihachi")
    for name in modules:
        _add(name, name)
    tasks: dict[str, type[ProcessTask]] = {}
    for impl in get_registry().pm.hook.register_process_tasks.get_hookimpls():

        def register(cls: type, _src: str = impl.plugin_name) -> None:
            if not (isinstance(cls, type) and issubclass(cls, ProcessTask)):
                raise PluginError(f"{_src}: {cls!r} registered as a process task must "
                                  "subclass heihachi.process.task.ProcessTask")
            if not cls.name:
                raise PluginError(f"{_src}: {cls.__qualname__} has no `name`")
            previous = tasks.get(cls.name)
            if previous is not None and previous is not cls:
                print(f"heihachi: warning: process task {cls.name!r} from {_src} replaces "
                      f"{previous.__module__}.{previous.__qualname__}", file=sys.stderr)
            tasks[cls.name] = cls

        try:
            impl.function(register=register)
        except PluginError:
            raise
        except Exception as e:
            raise PluginError(f"plugin {impl.plugin_name!r}: register_process_tasks failed: "
                              f"{type(e).__name__}: {e}") from e
    return tasks


def build_tasks(wanted: list[str], available: dict[str, type[ProcessTask]],
                context: ProcessContext) -> list[ProcessTask]:
    """Instances of ``wanted`` plus everything they require, each after what it requires.

    A task's ``requires`` is read from its instance (it may depend on the config).

    Raises:
        ConfigError: an unknown task name, or a cycle of ``requires``.
    """
    order: list[ProcessTask] = []
    state: dict[str, str] = {}  # name -> "visiting" | "done"

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise ConfigError(f"process.tasks: tasks require each other in a cycle: "
                              f"{' -> '.join((*chain, name))}")
        if name not in available:
            needed = f" (required by {chain[-1]})" if chain else ""
            raise ConfigError(f"process.tasks: no task named {name!r}{needed}; available: "
                              f"{', '.join(sorted(available)) or 'none'}")
        state[name] = "visiting"
        task = available[name](context)
        for dep in task.requires:
            visit(dep, (*chain, name))
        state[name] = "done"
        order.append(task)

    for name in dict.fromkeys(wanted):
        visit(name, ())
    return order


def describe_registry(tasks: dict[str, type[ProcessTask]]) -> list[dict[str, Any]]:
    """One row per task (``process --list-tasks``)."""
    return [{"name": n, "requires": list(c.requires), "sample_rate": c.sample_rate,
             "channels": c.channels, "module": c.__module__,
             "description": (c.__doc__ or "").strip().splitlines()[0] if c.__doc__ else ""}
            for n, c in sorted(tasks.items())]
