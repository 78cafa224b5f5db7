"""tilesim.dsl: tile-ISA kernels written as Python functions over tiles (Triton/Helion-like).

    from tilesim.dsl import *

    BM, BN, BK = 128, 128, 64

    @kernel(grid=lambda M, N: (cdiv(M, BM), cdiv(N, BN)))
    def gemm(A: Global[bf16, "M", "K"], B: Global[bf16, "K", "N"], C: Global[f32, "M", "N"],
             M: i32, N: i32, K: i32):
        pm, pn = program_id(0), program_id(1)
        acc = zeros((BM, BN), f32, space="acc")
        for k in tile_range(0, cdiv(K, BK), stages=3):
            a = copy_async(A, (pm, k), (BM, BK))
            b = copy_async(B, (k, pn), (BK, BN))
            wait(a, b)
            acc = mma(a, b, acc)
        store(C, (pm, pn), acc)

    text = gemm.to_tile()        # the .tile text; gemm.module() gives the verified tilesim Module

How it works. The function is *traced*: called once with symbolic handles, every DSL call appends one op
through the C++ IR Builder (which type-checks it with the opcode table's rules), so the DSL produces
exactly the IR the `.tile` parser does. Python control flow over runtime values is rewritten first
(tilesim/_dsl_transform.py): `for k in tile_range(...)` becomes a structured `for` whose loop-carried
values are the variables the body rebinds that were bound to DSL values before the loop (`acc` above),
in the order their initial values were defined; a carried tile from a memory op carries its token too.
`if c:` on an i1 runtime scalar becomes a structured `if` whose results are the variables the branches
rebind (bound before the if, or bound in both branches). A variable first bound inside a loop or branch
is not visible after it (using it is an error naming the variable), as in the IR. Plain Python (ints,
`range`, `if` on Python bools, helper functions) runs at trace time, as meta-programming: it is how tile
sizes, dtypes and unrolling are chosen. Parameters annotated `Constexpr` take their values at build time
(`gemm.module(TM=64, DIN="f8e4m3")`) and may be named in `Global[...]` dtypes and dims.

Automatic carry detection was chosen over an explicit `carry=` list because the rewrite sees every
assignment in the body (static analysis) and the trace sees which of those names hold DSL values (run
time); together they are exact. What cannot be traced is refused with a located error: break/continue/
return in a tile_range body, a Python value that changes inside a loop or runtime if, `and`/`or`/`while`
on runtime values, a variable bound in only one branch and used after the if.

Values:
  * Tile      — a tile value (dtype, shape, space). Operators + - * / ** and comparisons map to the
                element-wise ops (numpy broadcasting); `.T` transposes; `.sum/.max/.min(axis)` reduce;
                `.to(dtype)` casts. Tiles from load/copy_async/get carry their completion `.token`.
  * Scalar    — a runtime scalar (program ids, loop counters, f32 parameters, i1 conditions).
  * Sym       — a kernel-constant integer expression over the integer scalar parameters (`M`, `cdiv(K, 64)`):
                usable in shapes and the grid, and as an operand (then it is materialised with const/cdiv
                ops). Python ints are kernel constants too.
  * Token     — completion of a memory op (`after=`, `wait`).
Errors are tilesim.Error (DSLError) reported at the Python source line and column, with a caret.
"""
import ast
import contextvars
import inspect
import linecache
import numbers
import sys
import textwrap

import _tilesim as _core

from . import _dsl_transform

_THIS_FILE = __file__

# The trace being recorded. A context variable (not a plain global) so that nested or concurrent traces
# in other threads/contexts never see each other's builder; it is set only for the duration of a trace.
_ACTIVE_TRACE = contextvars.ContextVar("tilesim_dsl_active_trace", default=None)


class DSLError(_core.Error):
    """A kernel written in the DSL cannot be traced; the message is `file:line:col: error: ...` + caret."""


# ---- dtypes -------------------------------------------------------------------------------------------------

class DType:
    """An element type of the tile ISA (`f32`, `bf16`, ...) or `index` (integer for indices and counters)."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name

    @property
    def is_float(self):
        return self.name in ("f32", "f64", "tf32", "f16", "bf16", "f8e4m3", "f8e5m2", "f4e2m1")

    @property
    def is_int(self):
        return self.name in ("i8", "i32", "index")


f32, f64, tf32, f16, bf16 = DType("f32"), DType("f64"), DType("tf32"), DType("f16"), DType("bf16")
f8e4m3, f8e5m2, f4e2m1 = DType("f8e4m3"), DType("f8e5m2"), DType("f4e2m1")
i8, i32, i1 = DType("i8"), DType("i32"), DType("i1")
index = DType("index")
_DTYPES = {d.name: d for d in (f32, f64, tf32, f16, bf16, f8e4m3, f8e5m2, f4e2m1, i8, i32, i1, index)}


def _dtype(x, what="dtype"):
    if isinstance(x, DType):
        return x
    if isinstance(x, str) and x in _DTYPES:
        return _DTYPES[x]
    raise _error("%s must be a dtype (f32, bf16, ...), got %r" % (what, x))


def _core_type_of_dtype(d):
    return _core.Type.index() if d is index else _core.Type.scalar(d.name)


# ---- kernel-parameter annotations -----------------------------------------------------------------------------

class _GlobalSpec:
    def __init__(self, dtype, dims):
        self.dtype = dtype
        self.dims = dims


class Global:
    """Annotation of a global-tensor parameter: `A: Global[bf16, "M", "K"]`. Dims are ints, names of
    integer parameters, expressions over them ("2 * K"), or names of Constexpr parameters (whose values are
    used). The dtype may also name a Constexpr parameter: `A: Global["DT", "M", "K"]` with `DT: Constexpr`
    makes a dtype-generic kernel."""

    def __class_getitem__(cls, item):
        item = item if isinstance(item, tuple) else (item,)
        if len(item) < 2:
            raise TypeError("Global[dtype, dim, ...] needs a dtype and at least one dim")
        dtype = item[0] if isinstance(item[0], str) and item[0] not in _DTYPES else _dtype(item[0])
        return _GlobalSpec(dtype, item[1:])


class Constexpr:
    """Annotation of a compile-time parameter: its value is given when building (`kernel.module(BM=64)`),
    it is not a kernel parameter of the IR."""


# ---- errors and locations ----------------------------------------------------------------------------------

def _user_frame(trace):
    """The innermost frame of user code: in the kernel's file when tracing, else outside this package."""
    f = sys._getframe(1)
    pkg_dir = _THIS_FILE.rsplit("/", 1)[0]
    while f is not None:
        fname = f.f_code.co_filename
        if trace is not None and fname == trace.filename:
            return f
        if trace is None and not fname.startswith(pkg_dir):
            return f
        f = f.f_back
    return None


def _frame_loc(f):
    if f is None:
        return 0, 0
    line, col = f.f_lineno, 0
    positions = getattr(f.f_code, "co_positions", None)
    if positions is not None and f.f_lasti >= 0:
        for i, pos in enumerate(positions()):
            if i == f.f_lasti // 2:
                if pos[0] == line and pos[2] is not None:
                    col = pos[2] + 1
                break
    return line, col


def _error(message, hint="", loc=None):
    """A DSLError at the user's current source line (or `loc`), formatted like every tilesim input error."""
    trace = _ACTIVE_TRACE.get()
    if trace is None:
        frame = _user_frame(None)
        filename = frame.f_code.co_filename if frame else "<unknown>"
        text = "".join(linecache.getlines(filename))
    else:
        frame = _user_frame(trace)
        filename, text = trace.filename, trace.source_text
    line, col = loc if loc is not None else _frame_loc(frame)
    return DSLError(_core.format_diagnostic(filename, text, line, col, message, hint))


def _trace(what):
    t = _ACTIVE_TRACE.get()
    if t is None:
        raise _error("%s can only be used inside a @kernel function while it is traced" % what,
                     "build the kernel with kernel.module() or kernel.to_tile()")
    return t


# ---- kernel-constant expressions -----------------------------------------------------------------------------

def _expr_of(x):
    """Nested-tuple expression of an int / Sym / parameter name."""
    if isinstance(x, bool):
        raise _error("a shape or grid dimension cannot be a bool")
    if isinstance(x, int):
        return x
    if isinstance(x, Sym):
        return x.expr
    if isinstance(x, str):
        return x
    if isinstance(x, Scalar):
        raise _error("shapes and the grid are kernel constants: use parameters and Python ints, not a "
                     "runtime value", "a runtime value such as a program id cannot size a tile")
    raise _error("expected an int or an expression over integer parameters, got %r" % (x,))


def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _sym_or_int(e):
    return e if isinstance(e, int) else Sym(e)


def _fold(kind, a, b):
    if isinstance(a, int) and isinstance(b, int):
        if kind == "add":
            return a + b
        if kind == "sub":
            return a - b
        if kind == "mul":
            return a * b
        if kind == "div":
            return a // b
        if kind == "cdiv":
            return -(-a // b)
        if kind == "min":
            return min(a, b)
        if kind == "max":
            return max(a, b)
    # (ints are tested with `is int` first: == on a Sym is a runtime comparison)
    if kind == "mul" and _is_int(a) and a == 1:
        return b
    if kind in ("mul", "div", "cdiv") and _is_int(b) and b == 1:
        return a
    if kind in ("add", "sub") and _is_int(b) and b == 0:
        return a
    if kind == "add" and _is_int(a) and a == 0:
        return b
    return Sym((kind, _expr_of(a), _expr_of(b)))


class Sym:
    """A kernel-constant integer expression over integer scalar parameters: `M`, `cdiv(K, 64)`, `2 * N`.

    Arithmetic with ints and other Syms stays symbolic (usable in shapes and the grid; `//` is floor
    division). Mixing with a runtime Scalar, or using it as an operand, materialises it as ops
    (`const`, `cdiv`, ...); parameters themselves are used directly.
    """
    __slots__ = ("expr",)

    def __init__(self, expr):
        self.expr = expr

    def __repr__(self):
        return "Sym(%s)" % _core.expr_to_string(self.expr)

    def __str__(self):
        return _core.expr_to_string(self.expr)

    def _binary(self, kind, other, reverse=False):
        if isinstance(other, (int, Sym)) and not isinstance(other, bool):
            a, b = (other, self) if reverse else (self, other)
            return _fold(kind, a, b)
        if isinstance(other, Scalar):
            return _scalar_binary(kind, other, self) if reverse else _scalar_binary(kind, self, other)
        return NotImplemented

    def __add__(self, o): return self._binary("add", o)
    def __radd__(self, o): return self._binary("add", o, True)
    def __sub__(self, o): return self._binary("sub", o)
    def __rsub__(self, o): return self._binary("sub", o, True)
    def __mul__(self, o): return self._binary("mul", o)
    def __rmul__(self, o): return self._binary("mul", o, True)
    def __floordiv__(self, o): return self._binary("div", o)
    def __rfloordiv__(self, o): return self._binary("div", o, True)

    def __neg__(self):
        return Sym(("neg", self.expr))

    def __lt__(self, o): return _compare("cmp.lt", self, o)
    def __le__(self, o): return _compare("cmp.le", self, o)
    def __gt__(self, o): return _compare("cmp.gt", self, o)
    def __ge__(self, o): return _compare("cmp.ge", self, o)
    def __eq__(self, o): return _compare("cmp.eq", self, o)
    def __ne__(self, o): return _compare("cmp.ne", self, o)
    __hash__ = object.__hash__

    def __bool__(self):
        raise _error("a kernel-constant expression has no Python truth value while tracing",
                     "compare it (M > 0) to get a runtime i1 condition")

    def __index__(self):
        raise _error("%s is a kernel parameter, not a Python int: it has no value while tracing" % self)


def cdiv(a, b):
    """ceil(a / b): symbolic for ints/parameters (shapes, grid), a `cdiv` op for runtime scalars."""
    if isinstance(a, Scalar) or isinstance(b, Scalar):
        return _scalar_binary("cdiv", a, b)
    return _fold("cdiv", a, b)


def _sym_min_max(kind, a, b):
    if isinstance(a, Scalar) or isinstance(b, Scalar):
        return _scalar_binary(kind, a, b)
    return _fold(kind, a, b)


# ---- value handles -------------------------------------------------------------------------------------------

class _Value:
    """A value of the kernel being traced (its IR id and type)."""
    __slots__ = ("trace", "id", "type")

    def __init__(self, trace, id_, type_):
        self.trace = trace
        self.id = id_
        self.type = type_

    def __bool__(self):
        raise _error("a runtime value has no Python truth value while tracing",
                     "use `if` only on i1 scalars (a structured if), where(...) for tiles; `and`/`or`/`not` "
                     "and `while` do not work on runtime values")

    __hash__ = object.__hash__


class Token(_Value):
    """Completion of a memory operation (`after=...`, `wait(...)`)."""
    __slots__ = ()

    def __repr__(self):
        return "Token(%%%s)" % self.trace.b.name_of(self.id)


class Channel(_Value):
    """A multi-stage producer/consumer channel between roles."""
    __slots__ = ()


class GlobalTensor(_Value):
    """A global-memory tensor parameter."""
    __slots__ = ()

    @property
    def dtype(self):
        return _DTYPES[self.type.dtype]

    @property
    def shape(self):
        return tuple(_sym_or_int(e) for e in self.type.shape)


class _Arith(_Value):
    """Operators shared by tiles and scalars: element-wise map ops with broadcasting."""
    __slots__ = ()
    __array_ufunc__ = None  # numpy scalars on the left defer to our reflected operators

    @property
    def dtype(self):
        return index if self.type.kind == "index" else _DTYPES[self.type.dtype]

    def __add__(self, o): return _map2("add", self, o)
    def __radd__(self, o): return _map2("add", o, self)
    def __sub__(self, o): return _map2("sub", self, o)
    def __rsub__(self, o): return _map2("sub", o, self)
    def __mul__(self, o): return _map2("mul", self, o)
    def __rmul__(self, o): return _map2("mul", o, self)
    def __truediv__(self, o): return _map2("div", self, o)
    def __rtruediv__(self, o): return _map2("div", o, self)
    def __pow__(self, o): return _map2("pow", self, o)
    def __rpow__(self, o): return _map2("pow", o, self)
    def __neg__(self): return _map1("neg", self)
    def __abs__(self): return _map1("abs", self)
    def __lt__(self, o): return _compare("cmp.lt", self, o)
    def __le__(self, o): return _compare("cmp.le", self, o)
    def __gt__(self, o): return _compare("cmp.gt", self, o)
    def __ge__(self, o): return _compare("cmp.ge", self, o)
    def __eq__(self, o): return _compare("cmp.eq", self, o)
    def __ne__(self, o): return _compare("cmp.ne", self, o)
    __hash__ = object.__hash__

    def to(self, dtype):
        """cast to `dtype` (RNE, the dtype's default overflow policy)."""
        return cast(self, dtype)


class Tile(_Arith):
    """A tile value: dtype[shape] in a space (reg, scratch, acc). `.token` is set for tiles produced by
    memory ops (load, copy_async, get, cluster_load)."""
    __slots__ = ("token",)

    def __init__(self, trace, id_, type_, token=None):
        super().__init__(trace, id_, type_)
        self.token = token

    def __repr__(self):
        return "Tile(%%%s: %s)" % (self.trace.b.name_of(self.id), self.type)

    @property
    def shape(self):
        return tuple(_sym_or_int(e) for e in self.type.shape)

    @property
    def space(self):
        return self.type.space

    @property
    def rank(self):
        return self.type.rank

    @property
    def T(self):
        return transpose(self)

    def sum(self, axis, keepdims=False):
        return reduce_sum(self, axis, keepdims)

    def max(self, axis, keepdims=False):
        return reduce_max(self, axis, keepdims)

    def min(self, axis, keepdims=False):
        return reduce_min(self, axis, keepdims)


class Scalar(_Arith):
    """A runtime scalar: index (program ids, loop counters), i32/f32/... (parameters, constants), i1."""
    __slots__ = ()

    def __repr__(self):
        return "Scalar(%%%s: %s)" % (self.trace.b.name_of(self.id), self.type)

    def __floordiv__(self, o): return _scalar_binary("div", self, o)
    def __rfloordiv__(self, o): return _scalar_binary("div", o, self)
    def __mod__(self, o): return _scalar_binary("rem", self, o)
    def __rmod__(self, o): return _scalar_binary("rem", o, self)


class _Expired:
    """What a variable holds after the loop/branch that defined it: IR values do not leave regions."""
    __slots__ = ("name", "where")

    def __init__(self, name, where):
        self.name = name
        self.where = where

    def _fail(self):
        raise _error("'%s' was defined inside %s and is not visible after it" % (self.name, self.where),
                     "bind it before the loop/if to carry it out (e.g. acc = zeros(...) before the loop)")

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        self._fail()

    def __bool__(self):
        self._fail()


def _is_dsl(x):
    """A DSL object (handle, kernel-constant expression or expired name): never compared with ==."""
    return isinstance(x, (_Value, Sym, _Expired))


# ---- the trace ---------------------------------------------------------------------------------------------

class _Trace:
    """One tracing of a @kernel function into one Module."""

    def __init__(self, name, filename, source_text):
        self.filename = filename
        self.source_text = source_text
        self.module = _core.Module(filename, source_text)
        self.b = _core.Builder(self.module, name)
        self.name = name
        self.symbols = {}                 # integer scalar parameter name -> value id
        self.scopes = [{}]                # per open region: materialised constants (key -> id)
        self.regions = []                 # open for/if/role frames, innermost last
        self.wanted_names = {}            # value id -> Python variable name
        self.sym_names = {}               # kernel-constant expression -> Python variable name

    # -- emitting ops --
    def loc(self):
        line, col = _frame_loc(_user_frame(self))
        self.b.set_loc(line, col)

    def emit(self, opcode, operands=(), attrs=None, written=None, after=(), name=""):
        """Append one op; returns its results wrapped as handles (memory ops: the token last)."""
        self.loc()
        ids = self.b.op(opcode, [self.operand(o) for o in operands], attrs or {}, written,
                        [self.token_id(t) for t in after], name)
        return [self.wrap(i) for i in ids]

    def wrap(self, id_):
        t = self.b.type_of(id_)
        kind = t.kind
        if kind == "tile":
            return Tile(self, id_, t)
        if kind in ("scalar", "index"):
            return Scalar(self, id_, t)
        if kind == "token":
            return Token(self, id_, t)
        if kind == "global":
            return GlobalTensor(self, id_, t)
        if kind == "channel":
            return Channel(self, id_, t)
        raise _error("internal: value of kind %s" % kind)

    def own(self, v):
        if v.trace is not self:
            raise _error("this value belongs to another kernel's trace")
        return v.id

    def operand(self, x, like=None):
        """Value id of an operand: handles as they are, Syms/ints/floats materialised as scalars."""
        if isinstance(x, _Value):
            return self.own(x)
        if isinstance(x, _Expired):
            x._fail()
        if isinstance(x, Sym):
            return self.materialise(x.expr)
        if isinstance(x, bool):
            return self.constant(x, i1)
        if isinstance(x, numbers.Integral):
            x = int(x)
        elif isinstance(x, numbers.Real):
            x = float(x)
        if isinstance(x, (int, float)):
            d = like.dtype if isinstance(like, _Arith) else (index if isinstance(x, int) else f32)
            if d is i1:
                d = index if isinstance(x, int) else f32
            if isinstance(x, float) and not d.is_float:
                raise _error("%r is not an integer but the other operand is %s" % (x, d), "cast it first")
            return self.constant(x, d)
        raise _error("expected a tile, a scalar or a number, got %r" % (x,))

    def token_id(self, t):
        if isinstance(t, Tile) and t.token is not None:
            t = t.token
        if not isinstance(t, Token):
            raise _error("after=/wait take tokens (or tiles produced by memory ops), got %r" % (t,))
        return self.own(t)

    def lookup(self, key):
        for scope in reversed(self.scopes):
            if key in scope:
                return scope[key]
        return None

    def constant(self, value, dtype, shared=True):
        """A `const` scalar. Shared ones (numbers used as operands) are reused within the region (and
        regions nested in it); an explicit const() is its own value, named after its variable."""
        key = ("const", dtype.name, repr(value) if isinstance(value, float) else value)
        found = self.lookup(key) if shared else None
        if found is not None:
            return found
        self.loc()
        if isinstance(value, bool):
            value = bool(value)
        elif dtype.is_float:
            value = float(value)
        (id_,) = self.b.op("const", [], {"value": value}, _core_type_of_dtype(dtype), [], _const_name(value, dtype))
        if shared:
            self.scopes[-1][key] = id_
        return id_

    def materialise(self, expr):
        """Ops computing a kernel-constant expression at run time (reused within the region)."""
        if isinstance(expr, int):
            return self.constant(expr, index)
        if isinstance(expr, str):
            if expr not in self.symbols:
                raise _error("'%s' is not an integer scalar parameter of kernel @%s" % (expr, self.name))
            return self.symbols[expr]
        key = ("expr", expr)
        found = self.lookup(key)
        if found is not None:
            return found
        kind = expr[0]
        args = [self.materialise(a) for a in expr[1:]]
        self.loc()
        if kind == "neg":
            (id_,) = self.b.op("neg", args)
        else:
            opcode = {"add": "add", "sub": "sub", "mul": "mul", "div": "div", "cdiv": "cdiv", "min": "min",
                      "max": "max"}[kind]
            (id_,) = self.b.op(opcode, args, {}, None, [], self.sym_names.get(expr) or _expr_name(expr))
        self.scopes[-1][key] = id_
        return id_

    # -- regions --
    def push(self, frame):
        self.regions.append(frame)
        self.scopes.append({})

    def pop(self, frame):
        if not self.regions or self.regions[-1] is not frame:
            raise _error("internal: unbalanced DSL regions")
        self.regions.pop()
        self.scopes.pop()

    # -- names --
    def want_name(self, value, name):
        if isinstance(value, Sym) and isinstance(value.expr, tuple):
            self.sym_names.setdefault(value.expr, name)
            return
        if isinstance(value, _Value) and value.trace is self and value.id not in self.wanted_names:
            self.wanted_names[value.id] = name
            if isinstance(value, Tile) and value.token is not None and value.token.id not in self.wanted_names:
                self.wanted_names[value.token.id] = "t" + name

    def apply_names(self):
        """Name IR values after the Python variables bound to them; unique within the kernel."""
        used = set()
        values = self.module.values(self.name)
        for v in values:
            if v["def"] == "param":
                used.add(v["name"])
        for id_, v in enumerate(values):
            if v["def"] == "param":
                continue
            base = _sanitise(self.wanted_names.get(id_, v["name"]))
            name, n = base, 0
            while name in used:
                n += 1
                name = "%s_%d" % (base, n)
            used.add(name)
            if name != v["name"]:
                self.module.set_value_name(self.name, id_, name)


def _const_name(value, dtype):
    """c64, cm1, c0.5 -> c0p5_f32, -inf -> cminf_f32, true: readable names for constants."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value).replace("-", "m").replace(".", "p").replace("+", "")
    return "c" + text + ("" if dtype is index else "_" + dtype.name)


def _expr_name(expr):
    """cdiv_K_64 for a materialised kernel-constant expression (short ones only)."""
    def flat(e):
        if isinstance(e, (int, str)):
            return str(e).replace("-", "m")
        return "_".join([e[0]] + [flat(a) for a in e[1:]])
    name = flat(expr)
    return name if len(name) <= 24 else "e"


def _sanitise(name):
    out = "".join(c if (c.isascii() and (c.isalnum() or c in "_.")) else "_" for c in name)
    return out if out and (out[0].isalpha() or out[0] == "_") else "v" + out


# ---- element-wise ops -----------------------------------------------------------------------------------

def _trace_of(*xs, what):
    for x in xs:
        if isinstance(x, _Value):
            return x.trace
    return _trace(what)


def _map_operands(trace, xs):
    """Operand ids for a map op: numbers take the dtype of the first tile/scalar operand."""
    like = next((x for x in xs if isinstance(x, Tile)), None)
    if like is None:
        like = next((x for x in xs if isinstance(x, _Arith)), None)
    return [trace.operand(x, like) for x in xs]


def _op_ids(trace, opcode, ids, attrs=None, written=None, after=(), name=""):
    trace.loc()
    out = trace.b.op(opcode, ids, attrs or {}, written, [trace.token_id(t) for t in after], name)
    return [trace.wrap(i) for i in out]


def _map1(opcode, x, attrs=None):
    t = _trace_of(x, what=opcode)
    return _op_ids(t, opcode, _map_operands(t, [x]), attrs)[0]


def _map2(opcode, a, b):
    if isinstance(a, _Expired):
        a._fail()
    if isinstance(b, _Expired):
        b._fail()
    t = _trace_of(a, b, what=opcode)
    return _op_ids(t, opcode, _map_operands(t, [a, b]))[0]


def _compare(opcode, a, b):
    return _map2(opcode, a, b)


def _scalar_binary(kind, a, b):
    """Runtime scalar arithmetic (index/i32): ints and Syms become index values."""
    t = _trace_of(a, b, what=kind)
    opcode = {"add": "add", "sub": "sub", "mul": "mul", "div": "div", "cdiv": "cdiv", "rem": "rem",
              "min": "min", "max": "max"}[kind]
    return _op_ids(t, opcode, _map_operands(t, [a, b]))[0]


def maximum(a, b):
    """Element-wise maximum (a NaN loses to a number)."""
    return _sym_min_max("max", a, b) if not any(isinstance(x, Tile) for x in (a, b)) else _map2("max", a, b)


def minimum(a, b):
    """Element-wise minimum (a NaN loses to a number)."""
    return _sym_min_max("min", a, b) if not any(isinstance(x, Tile) for x in (a, b)) else _map2("min", a, b)


def power(a, b): return _map2("pow", a, b)
def fma(a, b, c):
    """a * b + c rounded once."""
    t = _trace_of(a, b, c, what="fma")
    return _op_ids(t, "fma", _map_operands(t, [a, b, c]))[0]


def exp(x): return _map1("exp", x)
def exp2(x): return _map1("exp2", x)
def log(x): return _map1("log", x)
def log2(x): return _map1("log2", x)
def sqrt(x): return _map1("sqrt", x)
def rsqrt(x): return _map1("rsqrt", x)
def tanh(x): return _map1("tanh", x)
def sigmoid(x): return _map1("sigmoid", x)
def silu(x): return _map1("silu", x)
def recip(x): return _map1("recip", x)
def relu(x): return _map1("relu", x)


def gelu(x, approx="erf"):
    """GELU: exact erf form, or approx="tanh"."""
    return _map1("gelu", x, {"approx": approx} if approx != "erf" else None)


def cast(x, dtype):
    """Convert each element (or a scalar) to `dtype` (RNE, the dtype's default overflow policy)."""
    d = _dtype(dtype)
    if d is index:
        raise _error("cast to index is not an op; integer scalars mix with index freely")
    t = _trace_of(x, what="cast")
    return _op_ids(t, "cast", [t.operand(x)], {"to": d.name})[0]


def where(cond, a, b):
    """cond ? a : b, element-wise (select); numbers take the dtype of the tile operand."""
    t = _trace_of(cond, a, b, what="where")
    ids = [t.operand(cond)] + _map_operands(t, [a, b])
    return _op_ids(t, "select", ids)[0]


# ---- reductions and transforms ---------------------------------------------------------------------------

def _reduce(kind, x, axis, keepdims):
    if not isinstance(x, Tile):
        raise _error("reduce_%s needs a tile, got %r" % (kind, x))
    if axis < 0:
        axis += x.rank
    return _op_ids(x.trace, "reduce." + kind, [x.trace.own(x)], {"axis": int(axis), "keepdims": bool(keepdims)})[0]


def reduce_sum(x, axis, keepdims=False):
    """Sum along `axis` (floats accumulate in f32, in order)."""
    return _reduce("sum", x, axis, keepdims)


def reduce_max(x, axis, keepdims=False):
    return _reduce("max", x, axis, keepdims)


def reduce_min(x, axis, keepdims=False):
    return _reduce("min", x, axis, keepdims)


def _tile_arg(x, what):
    if isinstance(x, _Expired):
        x._fail()
    if not isinstance(x, Tile):
        raise _error("%s needs a tile, got %r" % (what, x))
    return x.trace, x.trace.own(x)


def transpose(x, perm=None):
    t, xid = _tile_arg(x, "transpose")
    return _op_ids(t, "transpose", [xid], {"perm": [int(p) for p in perm]} if perm is not None else None)[0]


def _shape_exprs(shape):
    shape = shape if isinstance(shape, (tuple, list)) else (shape,)
    return [_expr_of(d) for d in shape]


def broadcast(x, shape):
    """numpy broadcast_to (x may be a scalar)."""
    t = _trace_of(x, what="broadcast")
    return _op_ids(t, "broadcast", [t.operand(x)], {"shape": _shape_exprs(shape)})[0]


def reshape(x, shape):
    t, xid = _tile_arg(x, "reshape")
    return _op_ids(t, "reshape", [xid], {"shape": _shape_exprs(shape)})[0]


def slice_tile(x, offsets, sizes):
    """The box offsets .. offsets+sizes-1 of a tile (kernel-constant offsets)."""
    t, xid = _tile_arg(x, "slice_tile")
    return _op_ids(t, "slice", [xid], {"offsets": _shape_exprs(offsets), "sizes": _shape_exprs(sizes)})[0]


def _index_ids(trace, idx):
    idx = idx if isinstance(idx, (tuple, list)) else (idx,)
    return [trace.operand(i) for i in idx]


def subtile(x, idx, shape):
    """Block `idx` of x viewed as a grid of `shape` blocks; a view (stays in x's space)."""
    t, xid = _tile_arg(x, "subtile")
    return _op_ids(t, "subtile", [xid] + _index_ids(t, idx), {"shape": _shape_exprs(shape)})[0]


def concat(tiles, axis):
    tiles = list(tiles)
    t = _trace_of(*tiles, what="concat")
    return _op_ids(t, "concat", [t.operand(x) for x in tiles], {"axis": int(axis)})[0]


def gather(x, indices, axis):
    """numpy take_along_axis."""
    t, xid = _tile_arg(x, "gather")
    return _op_ids(t, "gather", [xid, t.operand(indices)], {"axis": int(axis)})[0]


def scatter(x, indices, updates, axis):
    """numpy put_along_axis on a copy of x (last duplicate wins)."""
    t, xid = _tile_arg(x, "scatter")
    return _op_ids(t, "scatter", [xid, t.operand(indices), t.operand(updates)], {"axis": int(axis)})[0]


def move(x, space):
    """The same tile in another on-chip space ("reg", "scratch", "acc")."""
    t, xid = _tile_arg(x, "move")
    return _op_ids(t, "move", [xid], {"space": space})[0]


def _tile_type(shape, dtype, space):
    return _core.Type.tile(_dtype(dtype).name, _shape_exprs(shape), space)


def zeros(shape, dtype=f32, space="reg"):
    """A tile of zeros (space="acc" for an mma accumulator)."""
    t = _trace("zeros")
    return t.emit("zeros", written=_tile_type(shape, dtype, space))[0]


def full(shape, value, dtype=f32, space="reg"):
    """A tile with every element = value rounded to dtype (value may be +-inf/nan)."""
    t = _trace("full")
    v = bool(value) if isinstance(value, bool) else float(value) if _dtype(dtype).is_float else int(value)
    return t.emit("full", attrs={"value": v}, written=_tile_type(shape, dtype, space))[0]


def iota(shape, dtype=i32, axis=0):
    """Each element = its index along `axis`."""
    t = _trace("iota")
    return t.emit("iota", attrs={"axis": int(axis)}, written=_tile_type(shape, dtype, "reg"))[0]


def const(value, dtype=None):
    """A runtime scalar constant (dtype: index for ints, f32 for floats, i1 for bools, unless given), emitted
    here as its own value (numbers used directly as operands share one `const` per region instead). Of a
    kernel-constant expression (`const(cdiv(K, BK))`), the index value computed here and now: the ops
    that evaluate it are emitted at this point (otherwise they are emitted where the value is first used)."""
    t = _trace("const")
    if isinstance(value, Sym):
        if dtype is not None and _dtype(dtype) is not index:
            raise _error("const of a kernel-constant expression is an index; cast it for another dtype")
        return t.wrap(t.materialise(value.expr))
    if dtype is None:
        dtype = i1 if isinstance(value, bool) else index if isinstance(value, int) else f32
    return t.wrap(t.constant(value, _dtype(dtype), shared=False))


# ---- dense compute ---------------------------------------------------------------------------------------

def mma(a, b, acc):
    """acc + a.b (a: [M,K], b: [K,N] in reg/scratch; acc: [M,N] in acc/reg)."""
    t = _trace_of(a, b, acc, what="mma")
    return _op_ids(t, "mma", [t.operand(a), t.operand(b), t.operand(acc)])[0]


def mma_scaled(a, scale_a, b, scale_b, acc, block):
    """acc + (a*scale_a).(b*scale_b) with one scale per `block` consecutive K elements."""
    t = _trace_of(a, b, acc, what="mma_scaled")
    ids = [t.operand(x) for x in (a, scale_a, b, scale_b, acc)]
    return _op_ids(t, "mma_scaled", ids, {"block": int(block)})[0]


# ---- memory and synchronisation ---------------------------------------------------------------------------

def _global_arg(buf, what):
    if not isinstance(buf, GlobalTensor):
        raise _error("%s needs a global tensor parameter, got %r" % (what, buf))
    return buf.trace


def _with_token(results):
    tile, token = results
    tile.token = token
    return tile


def load(buf, idx, shape, space="reg", after=()):
    """Read the tile at tile coordinates idx (units of `shape`); out-of-bounds elements read as 0.
    The tile's `.token` is the load's completion."""
    t = _global_arg(buf, "load")
    ids = [t.own(buf)] + _index_ids(t, idx)
    return _with_token(_op_ids(t, "load", ids, written=_tile_type(shape, buf.dtype, space), after=after))


def copy_async(buf, idx, shape, after=()):
    """Bulk asynchronous copy (TMA/DMA) into scratch; wait on the tile (or its .token) before reading it."""
    t = _global_arg(buf, "copy_async")
    ids = [t.own(buf)] + _index_ids(t, idx)
    return _with_token(_op_ids(t, "copy_async", ids, written=_tile_type(shape, buf.dtype, "scratch"),
                               after=after))


def store(buf, idx, tile, after=()):
    """Write `tile` at tile coordinates idx (out-of-bounds elements are dropped); returns the token."""
    t = _global_arg(buf, "store")
    ids = [t.operand(tile), t.own(buf)] + _index_ids(t, idx)
    return _op_ids(t, "store", ids, after=after)[0]


def atomic_add(buf, idx, tile, after=()):
    """buf tile idx += tile, atomically per element; returns the token."""
    t = _global_arg(buf, "atomic_add")
    ids = [t.operand(tile), t.own(buf)] + _index_ids(t, idx)
    return _op_ids(t, "atomic_add", ids, after=after)[0]


def wait(*tokens):
    """Block until the given tokens' operations (or tiles' producing copies) complete."""
    if not tokens:
        raise _error("wait needs at least one token")
    t = _trace_of(*[x.token if isinstance(x, Tile) else x for x in tokens], what="wait")
    return _op_ids(t, "wait", [t.token_id(x) for x in tokens])[0]


def barrier(scope="program", after=()):
    t = _trace("barrier")
    return t.emit("barrier", attrs={"scope": scope} if scope != "program" else None, after=after)[0]


def fence(scope="program", after=()):
    t = _trace("fence")
    return t.emit("fence", attrs={"scope": scope} if scope != "program" else None, after=after)[0]


def cluster_load(x, rank):
    """The value a @scratch tile has in the program of cluster rank `rank`."""
    t, xid = _tile_arg(x, "cluster_load")
    return _with_token(_op_ids(t, "cluster_load", [xid, t.operand(rank)]))


def channel(shape, dtype, stages, space="scratch"):
    """A producer/consumer channel of `stages` tiles of dtype[shape]; declare channels before the roles."""
    t = _trace("channel")
    t.loc()
    return t.wrap(t.b.channel(t.b.fresh_name("ch"), int(stages), _tile_type(shape, dtype, space)))


def put(ch, x, after=()):
    """Producer: wait for a free stage of ch, place x in it, arrive (after `after` completes)."""
    t = _trace_of(ch, x, what="put")
    return _op_ids(t, "put", [t.operand(ch), t.operand(x)], after=after)[0]


def get(ch):
    """Consumer: the next full stage's tile (its .token is the get's)."""
    t = _trace_of(ch, what="get")
    return _with_token(_op_ids(t, "get", [t.operand(ch)]))


def release(ch):
    """Consumer: done with the oldest stage taken by get."""
    t = _trace_of(ch, what="release")
    return _op_ids(t, "release", [t.operand(ch)])[0]


# ---- control -----------------------------------------------------------------------------------------------

def program_id(axis):
    """This program's coordinate along grid axis 0..2 (an index scalar)."""
    return _trace("program_id").emit("program_id", attrs={"axis": int(axis)})[0]


def num_programs(axis):
    return _trace("num_programs").emit("num_programs", attrs={"axis": int(axis)})[0]


def cluster_rank():
    return _trace("cluster_rank").emit("cluster_rank")[0]


def role_instance():
    """Which instance (0..count-1) of its role runs this code."""
    return _trace("role_instance").emit("role_instance")[0]


def op(opcode, *operands, written=None, after=(), **attrs):
    """Any opcode by name (the escape hatch): op("gelu", x, approx="tanh"). Returns one handle, or a tuple
    when the op has several results. `written` is the result type for ops that need one: a Type from
    tile_type(...), or a dtype for scalars."""
    t = _trace_of(*operands, what=opcode)
    if isinstance(written, DType):
        written = _core_type_of_dtype(written)
    attrs = {k: (_shape_exprs(v) if isinstance(v, (tuple, list)) else v) for k, v in attrs.items()}
    out = _op_ids(t, opcode, _map_operands(t, list(operands)), attrs, written, after)
    return out[0] if len(out) == 1 else tuple(out)


def tile_type(shape, dtype, space="reg"):
    """A tile Type for op(..., written=...)."""
    return _tile_type(shape, dtype, space)


class tile_range:
    """`for k in tile_range(lo, hi, step=1, stages=None):` — a structured loop of the IR (the body is traced
    once). Variables the body rebinds that hold DSL values before the loop are carried through it. `stages`
    is the software-pipelining hint. Bounds may be ints, parameters, Syms or runtime scalars."""

    def __init__(self, start, stop=None, step=1, stages=None):
        if stop is None:
            start, stop = 0, start
        self.start, self.stop, self.step, self.stages = start, stop, step, stages

    def __iter__(self):
        raise _error("a tile_range loop must be written directly in the body of a @kernel function",
                     "helper functions are traced as plain Python; use range() there to unroll, or move the "
                     "loop into the kernel")


class role:
    """`with role("producer", warps=4):` — the ops inside form one async role (warp group / slot stream);
    count=2 makes two instances (role_instance() tells them apart). Values cross roles only via channels."""

    def __init__(self, name, count=1, warps=None, registers=None):
        self.name, self.count = name, int(count)
        self.hints = {}
        if warps is not None:
            self.hints["warps"] = int(warps)
        if registers is not None:
            self.hints["registers"] = int(registers)
        self.trace = None

    def __enter__(self):
        self.trace = _trace("role")
        self.trace.loc()
        self.trace.b.begin_role(self.name, self.count, self.hints)
        self.trace.push(self)
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            return False
        self.trace.pop(self)
        self.trace.loc()
        self.trace.b.end_role()
        return False


# ---- runtime helpers called by the rewritten kernel code ---------------------------------------------------

def _carryable(x):
    return isinstance(x, (Tile, Scalar, Token, Sym))


def _static_changed(name, before, now, where, loc):
    raise _error("'%s' is a Python value (%r) that changes inside %s; the body is traced once, so the change "
                 "would happen only once" % (name, before, where),
                 "make it a DSL value before the statement (e.g. %s = const(%r)) to carry it" % (name, before),
                 loc=loc)


class _LoopFrame:
    def __init__(self, trace, names, before, carried, loc):
        self.trace, self.names, self.before, self.carried, self.loc = trace, names, before, carried, loc
        self.induction = None
        self.args = {}
        self.rebind = {}


class _IfFrame:
    def __init__(self, trace, static, taken, then_names, else_names, before, loc):
        self.trace, self.static, self.taken = trace, static, taken
        self.then_names, self.else_names, self.before, self.loc = then_names, else_names, before, loc
        self.all_names = list(then_names) + [n for n in else_names if n not in then_names]
        self.results = []       # names the if yields
        self.then_values = {}
        self.restore, self.unset, self.rebind = {}, (), {}
        self.else_open = False  # an else region was opened (dynamic if)
        self.closed = False

    @property
    def run_then(self):
        return self.taken if self.static else True

    @property
    def run_else(self):
        return (not self.taken) if self.static else self.else_open


class _Runtime:
    """The `_ts_rt` object the rewritten kernel code calls (see _dsl_transform)."""

    @staticmethod
    def name_values(pairs):
        trace = _ACTIVE_TRACE.get()
        if trace is None:
            return
        for name, value in pairs:
            trace.want_name(value, name)

    @staticmethod
    def for_begin(rng, names, env, target, loc):
        trace = _trace("tile_range")
        if not isinstance(rng, tile_range):
            raise _error("internal: for_begin without tile_range")
        env = dict(env)
        carried = [n for n in names if n in env and _carryable(env[n])]
        # Iter values in the order their initial values were defined (not the order the body rebinds them).
        carried.sort(key=lambda n: env[n].id if isinstance(env[n], _Value) else float("inf"))
        # A carried tile made by a memory op carries its token too (as its own iter value, after the values),
        # so `wait(a)` on a carried copy works in the body and after the loop.
        slots = [(n, False) for n in carried]
        slots += [(n, True) for n in carried if isinstance(env[n], Tile) and env[n].token is not None]
        trace.b.set_loc(*loc)
        lo, hi, step = (trace.operand(x) for x in (rng.start, rng.stop, rng.step))
        inits = [trace.token_id(env[n].token) if tok else trace.operand(env[n]) for n, tok in slots]
        trace.b.set_loc(*loc)
        stages = None if rng.stages is None else int(rng.stages)
        iv, args = trace.b.begin_for(lo, hi, step, inits, stages, target,
                                     ["t" + n if tok else n for n, tok in slots])
        frame = _LoopFrame(trace, names, env, slots, loc)
        trace.push(frame)
        frame.induction = trace.wrap(iv)
        trace.want_name(frame.induction, target)
        for (n, tok), a in zip(slots, args):
            if tok:
                frame.args[n].token = trace.wrap(a)
                trace.want_name(frame.args[n].token, "t" + n)
            else:
                frame.args[n] = trace.wrap(a)
                trace.want_name(frame.args[n], n)
        return frame

    @staticmethod
    def for_end(frame, env):
        trace = frame.trace
        env = dict(env)
        yields = []
        for n, tok in frame.carried:
            if n not in env:
                raise _error("loop-carried '%s' was deleted in the loop body" % n, loc=frame.loc)
            v = env[n]
            if isinstance(v, _Expired):
                v._fail()
            if tok:
                if not isinstance(v, Tile) or v.token is None:
                    raise _error("loop-carried '%s' enters the loop as a tile with a token (from a memory op) but "
                                 "the body rebinds it to a value without one" % n,
                                 "rebind it to a tile from load/copy_async/get", loc=frame.loc)
                yields.append(trace.token_id(v.token))
                continue
            if _is_int(v) or isinstance(v, float):
                yields.append(trace.operand(v, frame.args[n]))
            elif isinstance(v, (Tile, Scalar, Token, Sym)):
                yields.append(trace.operand(v) if not isinstance(v, Token) else trace.own(v))
            else:
                raise _error("loop-carried '%s' is rebound to %r, not a DSL value" % (n, v), loc=frame.loc)
            want = frame.args[n].type
            got = trace.b.type_of(yields[-1])
            if got != want:
                same_but_space = (got.kind == "tile" and want.kind == "tile" and got.dtype == want.dtype and
                                  got.shape == want.shape)
                hint = ("move it back with move(%s, \"%s\") before the end of the body" % (n, want.space)
                        if same_but_space else "keep its type the same in every iteration")
                raise _error("loop-carried '%s' enters the loop as %s but the body rebinds it to %s" %
                             (n, want, got), hint, loc=frame.loc)
        carried_names = [n for n, _ in frame.carried]
        for n in frame.names:
            if n in carried_names or n not in env:
                continue
            before = frame.before.get(n, _MISSING)
            now = env[n]
            if now is before or isinstance(now, Sym):
                continue
            if isinstance(now, (_Value, _Expired)):
                frame.rebind[n] = _Expired(n, "a tile_range loop (line %d)" % frame.loc[0])
            elif before is not _MISSING and not _is_dsl(before) and not _same_static(before, now):
                _static_changed(n, before, now, "a tile_range loop", frame.loc)
        trace.pop(frame)
        trace.b.set_loc(*frame.loc)
        results = trace.b.end_for(yields)
        for (n, tok), r in zip(frame.carried, results):
            if tok:
                frame.rebind[n].token = trace.wrap(r)
                trace.want_name(frame.rebind[n].token, "t" + n)
            else:
                frame.rebind[n] = trace.wrap(r)
                trace.want_name(frame.rebind[n], n)

    @staticmethod
    def if_begin(cond, then_names, else_names, env, loc):
        if isinstance(cond, _Expired):
            cond._fail()
        if not isinstance(cond, (_Value, Sym)):
            return _IfFrame(None, True, bool(cond), then_names, else_names, {}, loc)
        trace = _trace("if")
        if not isinstance(cond, Scalar) or cond.type.kind != "scalar" or cond.type.dtype != "i1":
            raise _error("a runtime `if` needs an i1 scalar condition, got %r" % (cond,),
                         "compare scalars (k < n) to get one; for tiles use where(cond, a, b)", loc=loc)
        frame = _IfFrame(trace, False, None, then_names, else_names, dict(env), loc)
        trace.b.set_loc(*loc)
        trace.b.begin_if(trace.own(cond))
        trace.push(frame)
        return frame

    @staticmethod
    def if_then_end(frame, env):
        if frame.static:
            return
        trace = frame.trace
        env = dict(env)
        before = frame.before
        # Results: names bound to DSL values before the if that a branch rebinds, and names both branches
        # bind. Other names the then-branch bound are local to it.
        frame.results = [n for n in frame.all_names
                         if (n in before and _carryable(before[n])) or
                         (n in frame.then_names and n in frame.else_names)]
        for n in frame.all_names:
            if n in frame.results:
                if n not in env:
                    raise _error("'%s' is set in the else-branch of this if but not in the then-branch" % n,
                                 "bind it before the if, or in both branches", loc=frame.loc)
                v = env[n]
                if not isinstance(v, (Tile, Scalar, Token, Sym)):
                    raise _error("'%s' is %r at the end of the then-branch, not a DSL value" % (n, v), loc=frame.loc)
                frame.then_values[n] = v
            elif n in env and n in before and not _is_dsl(before[n]) and not _same_static(before[n], env[n]):
                _static_changed(n, before[n], env[n], "a runtime if", frame.loc)
        yields = [_branch_value_id(trace, frame.then_values[n]) for n in frame.results]
        frame.restore = {n: before[n] for n in frame.all_names if n in before}
        frame.unset = tuple(n for n in frame.all_names if n not in before and n in env)
        trace.pop(frame)
        trace.b.set_loc(*frame.loc)
        if not frame.results and not frame.else_names:
            frame.closed = True
            trace.b.end_if([])
            frame.rebind = {n: _Expired(n, "an if (line %d)" % frame.loc[0]) for n in frame.unset}
            return
        trace.b.begin_else(yields)
        trace.push(frame)
        frame.else_open = True

    @staticmethod
    def if_else_end(frame, env):
        if frame.static or frame.closed:
            return
        trace = frame.trace
        env = dict(env)
        yields = []
        for n in frame.results:
            if n not in env:
                raise _error("'%s' is set in the then-branch of this if but not in the else-branch" % n,
                             "bind it before the if, or in both branches", loc=frame.loc)
            v = env[n]
            if not isinstance(v, (Tile, Scalar, Token, Sym)):
                raise _error("'%s' is %r at the end of the else-branch, not a DSL value" % (n, v), loc=frame.loc)
            yields.append(_branch_value_id(trace, v))
            then_type = trace.b.type_of(_branch_value_id(trace, frame.then_values[n]))
            if trace.b.type_of(yields[-1]) != then_type:
                raise _error("'%s' is %s after the then-branch but %s after the else-branch" %
                             (n, then_type, trace.b.type_of(yields[-1])), loc=frame.loc)
        for n in frame.else_names:
            if n in frame.results or n not in env:
                continue
            b4 = frame.before.get(n, _MISSING)
            if b4 is not _MISSING and not _is_dsl(b4) and not _same_static(b4, env[n]):
                _static_changed(n, b4, env[n], "a runtime if", frame.loc)
        trace.pop(frame)
        trace.b.set_loc(*frame.loc)
        results = trace.b.end_if(yields)
        frame.closed = True
        for n in frame.all_names:
            if n not in frame.results and (n in frame.unset or (n in env and isinstance(env[n], _Value) and
                                                                env[n] is not frame.before.get(n))):
                frame.rebind[n] = _Expired(n, "an if (line %d)" % frame.loc[0])
        for n, r in zip(frame.results, results):
            frame.rebind[n] = trace.wrap(r)
            trace.want_name(frame.rebind[n], n)


_MISSING = object()


def _branch_value_id(trace, v):
    return trace.own(v) if isinstance(v, Token) else trace.operand(v)


def _same_static(a, b):
    try:
        return a is b or (type(a) is type(b) and bool(a == b))
    except Exception:  # a value without a usable == (e.g. a numpy array): treat as changed
        return False


_RUNTIME = _Runtime()


# ---- the kernel decorator ------------------------------------------------------------------------------

class KernelDef:
    """A @kernel function. module()/to_tile() trace it (with the given Constexpr values) into IR."""

    def __init__(self, fn, grid=None, cluster=None, scratch=None, warps=None, registers=None, name=None):
        self.fn = fn
        self.name = name or fn.__name__
        self.grid, self.cluster = grid, cluster
        self.scratch, self.warps, self.registers = scratch, warps, registers
        self.filename = inspect.getsourcefile(fn) or fn.__code__.co_filename
        self._rewritten = None
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def __repr__(self):
        return "<tilesim kernel %s>" % self.name

    def __call__(self, *args, **kwargs):
        raise _error("a @kernel function is not called from Python: build it with .module()/.to_tile(), run "
                     "it with tilesim.run_functional(kernel.module(), ...)")

    # -- source rewriting --
    def _compiled(self):
        if self._rewritten is not None:
            return self._rewritten
        fn = self.fn
        try:
            lines, first = inspect.getsourcelines(fn)
        except (OSError, TypeError) as e:
            raise DSLError("kernel %s: the DSL reads the kernel's source, which is not available (%s); define "
                           "kernels in a .py file" % (self.name, e)) from None
        src = "".join(lines)
        dedented = textwrap.dedent(src)
        indent = len(lines[0]) - len(lines[0].lstrip())
        tree = ast.parse(dedented)
        fn_def = tree.body[0]
        if not isinstance(fn_def, ast.FunctionDef):
            raise _error("@kernel applies to a plain def")
        ast.increment_lineno(tree, first - 1)
        _dsl_transform.shift_columns(tree, indent)
        self._def_loc = (fn_def.lineno, fn_def.col_offset + 1)
        all_args = fn_def.args.posonlyargs + fn_def.args.args + fn_def.args.kwonlyargs
        self._param_locs = {a.arg: (a.lineno, a.col_offset + 1) for a in all_args}
        try:
            _dsl_transform.rewrite_function(fn_def)
        except _dsl_transform.TransformError as e:
            text = "".join(linecache.getlines(self.filename))
            raise DSLError(_core.format_diagnostic(self.filename, text, e.line, e.col, e.message, e.hint)) from None
        freevars = list(fn.__code__.co_freevars)
        maker = ast.FunctionDef(
            name="_ts_make",
            args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=a) for a in ["_ts_rt"] + freevars],
                               vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
            body=[fn_def, ast.Return(value=ast.Name(id=fn_def.name, ctx=ast.Load()))],
            decorator_list=[], returns=None, type_comment=None)
        module = ast.Module(body=[maker], type_ignores=[])
        ast.fix_missing_locations(module)
        code = compile(module, self.filename, "exec")
        self._rewritten = code
        return code

    def _traced_function(self):
        namespace = {}
        exec(self._compiled(), self.fn.__globals__, namespace)
        cells = [c.cell_contents for c in (self.fn.__closure__ or ())]
        return namespace["_ts_make"](_RUNTIME, *cells)

    # -- tracing --
    def module(self, verify=True, **constexprs):
        """Trace into a new Module (verified unless verify=False). Constexpr parameters by keyword."""
        fn = self._traced_function()
        text = "".join(linecache.getlines(self.filename))
        trace = _Trace(self.name, self.filename, text)
        trace.module.set_kernel_loc(self.name, *self._def_loc)
        token = _ACTIVE_TRACE.set(trace)
        try:
            args = self._bind_params(trace, constexprs)
            self._header(trace, args, constexprs)
            fn(*args)
            if trace.regions:
                raise _error("the kernel ended inside an open loop/if/role (a `return` inside a runtime if or "
                             "a tile_range loop cannot be traced)")
        finally:
            _ACTIVE_TRACE.reset(token)
        trace.apply_names()
        mod = trace.module
        if self.scratch == "auto":
            total = mod.scratch_usage(self.name)
            if total is None:
                raise _error("scratch='auto' needs constant tile shapes in @scratch")
            mod.set_scratch(self.name, total)
        if verify:
            mod.verify()
        return mod

    def run(self, buffers=None, scalars=None, options=None, summary=False, **constexprs):
        """Build (with the Constexprs) and run in the functional interpreter: tilesim.run_functional on
        this kernel. Returns every tensor after the run as float64 arrays (and the RunSummary with
        summary=True)."""
        return _core.run_functional(self.module(**constexprs), self.name, buffers or {}, scalars or {},
                                    options or {}, summary)

    def to_tile(self, **constexprs):
        """The kernel's canonical .tile text (verified)."""
        return self.module(**constexprs).print()

    def _bind_params(self, trace, constexprs):
        sig = inspect.signature(self.fn)
        unknown = set(constexprs) - set(sig.parameters)
        if unknown:
            raise _error("kernel %s has no parameter(s) %s" % (self.name, ", ".join(sorted(unknown))))
        annotations = {pname: self._annotation(pname, p) for pname, p in sig.parameters.items()}
        # Constexpr values first: Global[...] dtypes/dims and scalar annotations may name them.
        values = {}
        for pname, p in sig.parameters.items():
            if annotations[pname] is not Constexpr:
                if pname in constexprs:
                    raise _error("'%s' is a kernel parameter, not a Constexpr" % pname)
                continue
            if pname in constexprs:
                values[pname] = constexprs[pname]
            elif p.default is not inspect.Parameter.empty:
                values[pname] = p.default
            else:
                raise _error("Constexpr parameter '%s' of %s needs a value: %s.module(%s=...)" %
                             (pname, self.name, self.name, pname))
        args = []
        for pname, p in sig.parameters.items():
            ann = annotations[pname]
            loc = self._param_locs.get(pname, self._def_loc)
            trace.b.set_loc(*loc)
            if ann is Constexpr:
                args.append(values[pname])
                continue
            if isinstance(ann, str) and ann in values:
                ann = values[ann]
            if isinstance(ann, _GlobalSpec):
                dtype = _dtype(values.get(ann.dtype, ann.dtype), "the dtype of parameter '%s'" % pname)
                dims = [_expr_of(_parse_dim(d, self.name, values)) for d in ann.dims]
                vid = trace.b.param_global(pname, dtype.name, dims)
                args.append(trace.wrap(vid))
            elif isinstance(ann, DType) or (isinstance(ann, str) and ann in _DTYPES):
                d = _dtype(ann)
                vid = trace.b.param_scalar(pname, _core_type_of_dtype(d))
                if d.is_int:
                    trace.symbols[pname] = vid
                    args.append(Sym(pname))
                else:
                    args.append(trace.wrap(vid))
            else:
                raise _error("parameter '%s' of kernel %s needs an annotation: Global[dtype, dims...], a "
                             "scalar dtype (i32, f32, index, ...) or Constexpr" % (pname, self.name), loc=loc)
        return args

    def _annotation(self, pname, p):
        hints = getattr(self.fn, "__annotations__", {})
        ann = hints.get(pname, p.annotation)
        if isinstance(ann, str) and ann not in _DTYPES:  # `from __future__ import annotations`, or a Constexpr name
            try:
                ann = eval(ann, self.fn.__globals__, _closure_env(self.fn))
            except NameError:
                pass  # the name of a Constexpr parameter: resolved in _bind_params
        return ann

    def _header(self, trace, args, constexprs):
        env = {}
        sig = inspect.signature(self.fn)
        for (pname, _), a in zip(sig.parameters.items(), args):
            env[pname] = a
        trace.b.set_loc(*self._def_loc)
        if self.grid is not None:
            trace.b.set_grid([_expr_of(d) for d in _as_tuple(_call_with(self.grid, env, "grid"))])
        if self.cluster is not None:
            trace.b.set_cluster([_expr_of(d) for d in _as_tuple(_call_with(self.cluster, env, "cluster"))])
        scratch = None
        if self.scratch is not None and self.scratch != "auto":
            scratch = _expr_of(_call_with(self.scratch, env, "scratch"))
        if scratch is not None or self.warps is not None or self.registers is not None:
            trace.b.set_resources(scratch, self.warps, self.registers)


def _parse_dim(d, kernel_name, constexprs):
    """A Global[...] dim: an int, a parameter name, a Constexpr name (its value), or an expression string
    over parameters and Constexprs."""
    if isinstance(d, int) and not isinstance(d, bool):
        return d
    if isinstance(d, str):
        if d in constexprs:
            return constexprs[d]
        if d.isidentifier():
            return Sym(d)
        env = {"cdiv": cdiv, "min": lambda a, b: _fold("min", a, b), "max": lambda a, b: _fold("max", a, b)}
        env.update(constexprs)
        tree = ast.parse(d, mode="eval")
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id not in env:
                env[node.id] = Sym(node.id)
        return eval(compile(tree, "<dim>", "eval"), {"__builtins__": {}}, env)
    raise _error("a Global[...] dim of kernel %s must be an int or a parameter name, got %r" % (kernel_name, d))


def _closure_env(fn):
    return {name: cell.cell_contents for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ())}


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _call_with(spec, env, what):
    """Grid/cluster/scratch: a value, or a callable taking kernel parameters / Constexprs by name."""
    if not callable(spec):
        return spec
    params = inspect.signature(spec).parameters
    missing = [p for p in params if p not in env]
    if missing:
        raise _error("the %s function asks for %s, which %s not kernel parameters" %
                     (what, ", ".join(missing), "is" if len(missing) == 1 else "are"))
    return spec(**{p: env[p] for p in params})


def kernel(fn=None, *, grid=None, cluster=None, scratch=None, warps=None, registers=None, name=None):
    """Decorator: make a Python function a tile-ISA kernel.

    grid/cluster: a tuple of dims (ints, parameters, Syms) or a function of kernel parameters returning one,
    e.g. grid=lambda M, N: (cdiv(M, 128), cdiv(N, 128)); scratch: bytes (or such a function), or "auto" to
    declare exactly what the kernel allocates; warps/registers: resource hints; name: the IR kernel name.
    """
    def wrap(f):
        return KernelDef(f, grid=grid, cluster=cluster, scratch=scratch, warps=warps, registers=registers,
                         name=name)
    return wrap(fn) if fn is not None else wrap


def module_of(*kernels, **constexprs):
    """One Module holding several kernels (each traced with the Constexprs it accepts)."""
    out = None
    for k in kernels:
        accepted = {n: v for n, v in constexprs.items() if n in inspect.signature(k.fn).parameters}
        m = k.module(**accepted)
        if out is None:
            out = m
        else:
            out.append(m)
    return out


__all__ = [
    # types and annotations
    "DType", "f32", "f64", "tf32", "f16", "bf16", "f8e4m3", "f8e5m2", "f4e2m1", "i8", "i32", "i1", "index",
    "Global", "Constexpr", "Tile", "Scalar", "Sym", "Token", "Channel", "GlobalTensor", "DSLError",
    # kernels
    "kernel", "KernelDef", "module_of",
    # control
    "program_id", "num_programs", "cluster_rank", "role_instance", "tile_range", "role", "cdiv", "const", "op",
    "tile_type",
    # creation, memory, sync
    "zeros", "full", "iota", "load", "store", "copy_async", "atomic_add", "wait", "barrier", "fence",
    "cluster_load", "channel", "put", "get", "release",
    # compute
    "mma", "mma_scaled", "maximum", "minimum", "power", "fma", "where", "cast", "exp", "exp2", "log", "log2",
    "sqrt", "rsqrt", "tanh", "sigmoid", "silu", "gelu", "recip", "relu",
    "reduce_sum", "reduce_max", "reduce_min",
    "transpose", "broadcast", "reshape", "slice_tile", "subtile", "concat", "gather", "scatter", "move",
]
