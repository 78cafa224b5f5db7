"""tilesim: cycle-level simulator for AI accelerators.

The C++ core is the `_tilesim` module: built into `tilesim script`, or importable from build/python.
Python describes and composes; C++ runs (no Python runs per simulated cycle).

Tile ISA from Python:
  * tilesim.dsl — write kernels as Python functions over tiles (`@tilesim.kernel`), export `.tile` text;
  * parse_tile / print_module / verify / Builder — the IR and its text format;
  * round_to / encode / decode — the simulator's exact dtype conversions on numpy arrays.
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

# Tile ISA: IR, text format, verifier.
Module = _core.Module
Builder = _core.Builder
Type = _core.Type
parse_tile = _core.parse_tile
load_tile_file = _core.load_tile_file
print_module = _core.print_module
verify = _core.verify
opcodes = _core.opcodes
expr_to_string = _core.expr_to_string
eval_expr = _core.eval_expr

# The functional interpreter and the workload registry.
run_functional = _core.run_functional
RunSummary = _core.RunSummary
workloads = _core.workloads
workload_info = _core.workload_info
workload_params = _core.workload_params
build_workload = _core.build_workload

# Exact dtype conversions (numpy arrays in, numpy arrays out).
dtypes = _core.dtypes
dtype_info = _core.dtype_info
round_to = _core.round_to
encode = _core.encode
decode = _core.decode
round_tf32 = _core.round_tf32

from . import dsl  # noqa: E402  (needs _core)
from .dsl import kernel, DSLError  # noqa: E402

__all__ = ["Error", "version", "parse_quantity", "format_quantity", "kinds", "params", "presets", "run",
           "Module", "Builder", "Type", "parse_tile", "load_tile_file", "print_module", "verify", "opcodes",
           "expr_to_string", "eval_expr", "run_functional", "RunSummary", "workloads", "workload_info",
           "workload_params", "build_workload", "dtypes", "dtype_info", "round_to", "encode", "decode", "round_tf32",
           "dsl", "kernel", "DSLError"]
