"""grappe: the open platform for French business clusters."""

from grappe.config import Settings, get_settings
from grappe.errors import GrappeError, InputError, UnknownCodeError

__all__ = ["GrappeError", "InputError", "Settings", "UnknownCodeError", "get_settings"]
__version__ = "0.1.0"
