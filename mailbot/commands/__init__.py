"""Aideur's mail commands, one module each (docs/rules.md §2): every module of this package but `base` defines one
`AideurCommand` subclass, found here at import. Adding a command is adding a module; nothing else lists them.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from types import MappingProxyType

from mailbot.commands.base import AideurCommand


def _discover() -> Mapping[str, AideurCommand]:
    found: list[AideurCommand] = []
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name == "base" or module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        found += [value() for value in vars(module).values()
                  if isinstance(value, type) and issubclass(value, AideurCommand)
                  and value.__module__ == module.__name__ and "name" in vars(value)]
    found.sort(key=lambda command: (command.order, command.name))
    names = [command.name for command in found]
    if len(set(names)) != len(names):
        raise RuntimeError(f"two Aideur commands share a name: {names}")
    return MappingProxyType({command.name: command for command in found})


REGISTRY: Mapping[str, AideurCommand] = _discover()

__all__ = ["REGISTRY", "AideurCommand"]
