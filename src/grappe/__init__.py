"""grappe: the open platform for French business clusters."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from grappe.errors import GrappeError, InputError, UnknownCodeError

if TYPE_CHECKING:
    from grappe.config import Settings, get_settings

__all__ = ["GrappeError", "InputError", "Settings", "UnknownCodeError", "get_settings"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The settings load pydantic: on first use (PEP 562), so that `grappe --help` stays light.
    if name in ("Settings", "get_settings"):
        return getattr(import_module("grappe.config"), name)
    raise AttributeError(f"module 'grappe' has no attribute {name!r}")
