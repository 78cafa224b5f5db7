"""tilesim: cycle-level simulator for AI accelerators.

The C++ core is the `_tilesim` module: built into `tilesim script`, or importable from build/python.
Python describes and composes; C++ runs (no Python runs per simulated cycle).
"""
try:
    import _tilesim as _core
except ImportError as exc:  # pragma: no cover - message for a missing build
    raise ImportError(
        "the tilesim C++ module is not available: run inside `tilesim script FILE.py`, or put the "
        "build's python/ folder (e.g. build/python) on PYTHONPATH") from exc

Error = _core.Error
version = _core.version
parse_quantity = _core.parse_quantity
format_quantity = _core.format_quantity
kinds = _core.kinds
params = _core.params
presets = _core.presets
run = _core.run

__all__ = ["Error", "version", "parse_quantity", "format_quantity", "kinds", "params", "presets", "run"]
