"""Source rewriting for the tilesim DSL: turns a kernel function's Python control flow into structured IR.

A @kernel function is traced: it runs once with symbolic handles that record Builder calls. Straight-line
code needs nothing more, but Python `for` and `if` cannot be traced as they are: a loop body would run
once with no record of which variables it carries, and an `if` on a runtime value cannot pick a branch.
So before tracing, the function's AST is rewritten (the approach of Triton's front end):

  for k in tile_range(lo, hi, step, stages=3):      _L = _ts_rt.for_begin(tile_range(...), NAMES, locals(), "k", loc)
      BODY                                   ->      k = _L.induction; <bind carried names from _L.args>
                                                     BODY
                                                     _ts_rt.for_end(_L, locals()); <rebind names from _L.rebind>

  if COND:                                   ->      _I = _ts_rt.if_begin(COND, THEN_NAMES, ELSE_NAMES, locals(), loc)
      A                                              if _I.run_then: A; _ts_rt.if_then_end(_I, locals())
  else:                                              if _I.run_else: <restore names>; B; _ts_rt.if_else_end(_I, locals())
      B                                              <rebind names from _I.rebind>

NAMES are the variables the body assigns (found here, statically). At run time the helpers decide which
of them are loop-carried / branch results: those bound to DSL values before the statement (plus, for an
`if`, those both branches assign). So `acc = mma(a, b, acc)` inside a loop carries `acc` with no
annotation, and after the loop `acc` is the loop's result, as in plain Python. An `if` whose condition is
a Python bool (a compile-time choice) runs only the chosen branch, unchanged.

Assignments are also followed by `_ts_rt.name_values(...)`, which names the IR values after the Python
variables they are bound to, so the `.tile` export reads like the source.

Only the kernel function's own body is rewritten (not functions it calls, nor nested defs); `tile_range`
used anywhere else raises a clear error.
"""
import ast

RT = "_ts_rt"           # the runtime-helper object passed into the rewritten function
PREFIX = "_ts_"         # every generated name starts with it


class TransformError(Exception):
    """A construct the DSL cannot trace, with the (line, col) of the offending node (1-based col)."""

    def __init__(self, message, node, hint=""):
        super().__init__(message)
        self.message = message
        self.line = getattr(node, "lineno", 0)
        self.col = getattr(node, "col_offset", -1) + 1
        self.hint = hint


def _is_tile_range_call(node):
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    return (isinstance(f, ast.Name) and f.id == "tile_range") or (
        isinstance(f, ast.Attribute) and f.attr == "tile_range")


class _AssignedNames(ast.NodeVisitor):
    """Names a statement list binds (Store context), not looking into nested scopes."""

    def __init__(self):
        self.names = []

    def _add(self, name):
        if not name.startswith(PREFIX) and name not in self.names:
            self.names.append(name)

    def visit_Name(self, node):
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self._add(node.id)

    def visit_FunctionDef(self, node):
        self._add(node.name)  # the def binds its name; its body is another scope

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        self._add(node.name)

    def visit_Lambda(self, node):
        pass

    def visit_ListComp(self, node):
        pass

    visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_ListComp


def assigned_names(stmts):
    v = _AssignedNames()
    for s in stmts:
        v.visit(s)
    return v.names


class _ForbiddenInLoop(ast.NodeVisitor):
    """break/continue/return directly in a tile_range body (not in nested static loops or defs)."""

    def __init__(self):
        self.found = None

    def visit_Break(self, node):
        self.found = self.found or (node, "'break'")

    def visit_Continue(self, node):
        self.found = self.found or (node, "'continue'")

    def visit_Return(self, node):
        self.found = self.found or (node, "'return'")

    def visit_For(self, node):
        # break/continue inside a nested Python loop belong to that loop; return still escapes.
        inner = _ForbiddenInLoop()
        for s in node.body + node.orelse:
            inner.visit(s)
        if inner.found and inner.found[1] == "'return'":
            self.found = self.found or inner.found

    visit_While = visit_For

    def visit_FunctionDef(self, node):
        pass

    visit_AsyncFunctionDef = visit_Lambda = visit_ClassDef = visit_FunctionDef


def _name(id_, store=False):
    return ast.Name(id=id_, ctx=ast.Store() if store else ast.Load())


def _const(v):
    return ast.Constant(value=v)


def _call(func_attr, args):
    return ast.Call(func=ast.Attribute(value=_name(RT), attr=func_attr, ctx=ast.Load()), args=args, keywords=[])


def _locals_call():
    return ast.Call(func=_name("locals"), args=[], keywords=[])


def _loc_tuple(node):
    return ast.Tuple(elts=[_const(node.lineno), _const(node.col_offset + 1)], ctx=ast.Load())


def _str_tuple(names):
    return ast.Tuple(elts=[_const(n) for n in names], ctx=ast.Load())


def _rebind_from(holder, attr, names):
    """`if 'n' in HOLDER.ATTR: n = HOLDER.ATTR['n']` for each name."""
    out = []
    for n in names:
        table = ast.Attribute(value=_name(holder), attr=attr, ctx=ast.Load())
        test = ast.Compare(left=_const(n), ops=[ast.In()], comparators=[table])
        value = ast.Subscript(value=ast.Attribute(value=_name(holder), attr=attr, ctx=ast.Load()),
                              slice=_const(n), ctx=ast.Load())
        out.append(ast.If(test=test, body=[ast.Assign(targets=[_name(n, store=True)], value=value)], orelse=[]))
    return out


def _unset_from(holder, names):
    """`if 'n' in HOLDER.unset: del n` — names a then-branch bound that must not exist in the else-branch."""
    out = []
    for n in names:
        table = ast.Attribute(value=_name(holder), attr="unset", ctx=ast.Load())
        test = ast.Compare(left=_const(n), ops=[ast.In()], comparators=[table])
        out.append(ast.If(test=test, body=[ast.Delete(targets=[ast.Name(id=n, ctx=ast.Del())])], orelse=[]))
    return out


def _target_names(target):
    """Plain names bound by an assignment target (x, or tuples/lists of names); others are skipped."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        out = []
        for e in target.elts:
            out.extend(_target_names(e.value if isinstance(e, ast.Starred) else e))
        return out
    return []


class _Rewriter:
    def __init__(self):
        self.counter = 0

    def fresh(self, kind):
        self.counter += 1
        return "%s%s_%d" % (PREFIX, kind, self.counter)

    def stmts(self, stmts):
        out = []
        for s in stmts:
            out.extend(self.stmt(s))
        return out

    def stmt(self, s):
        if isinstance(s, ast.For) and _is_tile_range_call(s.iter):
            return self.tile_for(s)
        if isinstance(s, ast.If):
            return self.if_(s)
        if isinstance(s, (ast.For, ast.AsyncFor, ast.While)):
            s.body = self.stmts(s.body)
            s.orelse = self.stmts(s.orelse)
            return [s]
        if isinstance(s, (ast.With, ast.AsyncWith)):
            s.body = self.stmts(s.body)
            return [s]
        if isinstance(s, ast.Try):
            s.body = self.stmts(s.body)
            s.orelse = self.stmts(s.orelse)
            s.finalbody = self.stmts(s.finalbody)
            for h in s.handlers:
                h.body = self.stmts(h.body)
            return [s]
        if isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            return [s] + self.naming(s)
        return [s]

    def naming(self, s):
        """`_ts_rt.name_values((('x', x), ...))` after an assignment to plain names."""
        if isinstance(s, ast.Assign):
            names = [n for t in s.targets for n in _target_names(t)]
        elif isinstance(s, ast.AnnAssign) and s.value is None:
            names = []
        else:
            names = _target_names(s.target)
        if not names:
            return []
        pairs = ast.Tuple(elts=[ast.Tuple(elts=[_const(n), _name(n)], ctx=ast.Load()) for n in names],
                          ctx=ast.Load())
        node = ast.Expr(value=_call("name_values", [pairs]))
        return [ast.copy_location(node, s)]

    def tile_for(self, s):
        if s.orelse:
            raise TransformError("a tile_range loop cannot have an 'else' clause", s)
        if not isinstance(s.target, ast.Name):
            raise TransformError("the target of a tile_range loop must be one name", s.target,
                                 "write `for k in tile_range(...)`")
        check = _ForbiddenInLoop()
        for b in s.body:
            check.visit(b)
        if check.found:
            node, what = check.found
            raise TransformError(what + " inside a tile_range loop cannot be traced", node,
                                 "a tile_range loop always runs all its iterations; use `if` with a runtime "
                                 "condition inside the body instead")
        names = [n for n in assigned_names(s.body) if n != s.target.id]
        loop = self.fresh("loop")
        begin = ast.Assign(targets=[_name(loop, store=True)],
                           value=_call("for_begin", [s.iter, _str_tuple(names), _locals_call(),
                                                     _const(s.target.id), _loc_tuple(s)]))
        induction = ast.Assign(targets=[_name(s.target.id, store=True)],
                               value=ast.Attribute(value=_name(loop), attr="induction", ctx=ast.Load()))
        end = ast.Expr(value=_call("for_end", [_name(loop), _locals_call()]))
        prologue = [begin, induction] + _rebind_from(loop, "args", names)
        epilogue = [end] + _rebind_from(loop, "rebind", names)
        generated = [ast.fix_missing_locations(ast.copy_location(n, s)) for n in prologue + epilogue]
        body = self.stmts(s.body)
        return generated[:len(prologue)] + body + generated[len(prologue):]

    def if_(self, s):
        then_names = assigned_names(s.body)
        else_names = assigned_names(s.orelse)
        all_names = then_names + [n for n in else_names if n not in then_names]
        holder = self.fresh("if")
        begin = ast.Assign(targets=[_name(holder, store=True)],
                           value=_call("if_begin", [s.test, _str_tuple(then_names), _str_tuple(else_names),
                                                    _locals_call(), _loc_tuple(s)]))
        then_end = ast.Expr(value=_call("if_then_end", [_name(holder), _locals_call()]))
        else_end = ast.Expr(value=_call("if_else_end", [_name(holder), _locals_call()]))
        run_then = ast.If(test=ast.Attribute(value=_name(holder), attr="run_then", ctx=ast.Load()),
                          body=self.stmts(s.body) + [then_end], orelse=[])
        else_body = (_rebind_from(holder, "restore", all_names) + _unset_from(holder, all_names) +
                     self.stmts(s.orelse) + [else_end])
        run_else = ast.If(test=ast.Attribute(value=_name(holder), attr="run_else", ctx=ast.Load()),
                          body=else_body, orelse=[])
        # Only generated nodes take the if's location; the user's statements inside keep their own.
        for n in [begin, then_end, else_end, run_then, run_else] + else_body[:2 * len(all_names)]:
            ast.copy_location(n, s)
        out = [begin, run_then, run_else] + _rebind_from(holder, "rebind", all_names)
        for n in out[3:]:
            ast.copy_location(n, s)
        return [ast.fix_missing_locations(n) for n in out]


def rewrite_function(fn_def):
    """Rewrite a FunctionDef's body in place (decorators removed); returns it."""
    fn_def.decorator_list = []
    fn_def.body = _Rewriter().stmts(fn_def.body)
    return fn_def


def shift_columns(tree, offset):
    """Add `offset` to every column (the source was dedented before parsing)."""
    if offset == 0:
        return
    for node in ast.walk(tree):
        if hasattr(node, "col_offset") and node.col_offset is not None and node.col_offset >= 0:
            node.col_offset += offset
        if hasattr(node, "end_col_offset") and node.end_col_offset is not None and node.end_col_offset >= 0:
            node.end_col_offset += offset
