"""Detectors behind one interface (`monitors.base.Monitor`): episode in, flags out.

Importing this package imports every module and subpackage in it, so a new monitor
is one new module that decorates its class with `@register`.
"""

import importlib
import pkgutil

for _info in pkgutil.iter_modules(__path__):
    if not _info.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_info.name}")
