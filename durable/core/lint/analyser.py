"""The determinism lint over one module's source: find the orchestrators, follow the
helpers they call in the same module, and report every replay-unsafe reference (see
`rules`). Pure: it parses the source with `ast` and never runs it.

Orchestrators are the functions decorated with `<app or blueprint>.orchestration_trigger`
(with `function_name` or other decorators stacked or not), the functions passed to
`df.Orchestrator.create(...)` (the SDK's v1 model), and any the caller names (a host that
imported the app knows them from its registry). Helpers are the module's functions an
orchestrator refers to by name, transitively; a function with a Functions decorator
(an activity, an entity, a client or HTTP function) is never a helper: activities are
where non-deterministic work belongs.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass

from durable.core.lint.findings import Finding, LintResult
from durable.core.lint.names import Bindings, function_bindings, module_bindings, qualified_name
from durable.core.lint.rules import SEEDED_CONSTRUCTORS, Rule, rule_for
from durable.errors import LintError

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
ORCHESTRATOR_DECORATOR = "orchestration_trigger"
# Decorators that make a function a Functions function (never a helper of an orchestrator).
_FUNCTION_DECORATORS = re.compile(
    r"(_trigger|_input|_output|^route|^function_name|^schedule|^http_type|^retry)$"
)
# `# durable: allow` (every finding on the line) or `# durable: allow DF101, DF106`.
_ALLOW = re.compile(r"#\s*durable:\s*allow\b((?:[\s,]*DF\d{3})*)")
_ALL = "*"


@dataclass(frozen=True)
class _Module:
    file: str
    bindings: Bindings
    functions: dict[str, FunctionNode]  # by qualified name (`Class.method`, `outer.inner`)
    allowed: dict[int, frozenset[str]]


def lint_source(source: str, file: str, orchestrators: Iterable[str] = ()) -> LintResult:
    """Check the orchestrators of one module (`file` is only used in the findings).

    `orchestrators` adds functions by their qualified name (`fn`, `Class.fn`) to those the
    decorators show. Raises `LintError` when the source does not parse.
    """
    try:
        tree = ast.parse(source, filename=file)
    except SyntaxError as exc:
        raise LintError(f"{file}, line {exc.lineno}: cannot check the orchestrators, the "
                        f"module does not parse ({exc.msg}).") from None
    module = _Module(file, module_bindings(tree), _functions(tree), _allowed_lines(source))
    names = [*_decorated_orchestrators(module), *_created_orchestrators(tree)]
    names += orchestrators
    roots = list(dict.fromkeys(n for n in names if n in module.functions))
    seen: dict[tuple[int, int, str], Finding] = {}
    for root in roots:
        for finding in _check_orchestrator(module, root):
            seen.setdefault((finding.line, finding.column, finding.code), finding)
    findings = sorted(seen.values(), key=lambda f: (f.line, f.column, f.code))
    return LintResult(file, tuple(roots), tuple(findings))


def _functions(tree: ast.Module) -> dict[str, FunctionNode]:
    found: dict[str, FunctionNode] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found[prefix + node.name] = node
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.If | ast.Try | ast.With):
                for part in ("body", "orelse", "finalbody"):
                    visit(getattr(node, part, []), prefix)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body, prefix)

    visit(tree.body, "")
    return found


def _decorator_name(decorator: ast.expr) -> str | None:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Attribute):
        return target.attr
    return target.id if isinstance(target, ast.Name) else None


def _decorated_orchestrators(module: _Module) -> list[str]:
    return [name for name, fn in module.functions.items()
            if any(_decorator_name(d) == ORCHESTRATOR_DECORATOR for d in fn.decorator_list)]


def _created_orchestrators(tree: ast.Module) -> list[str]:
    """Functions made orchestrators by a call: `df.Orchestrator.create(fn)` (the SDK's v1
    model) and the decorator called by hand, `app.orchestration_trigger(...)(fn)`."""
    names = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and len(node.args) == 1
                and isinstance(node.args[0], ast.Name) and _makes_orchestrator(node.func)):
            names.append(node.args[0].id)
    return names


def _makes_orchestrator(func: ast.expr) -> bool:
    if isinstance(func, ast.Call):  # `app.orchestration_trigger(context_name="c")(fn)`
        return _decorator_name(func) == ORCHESTRATOR_DECORATOR
    return (isinstance(func, ast.Attribute) and func.attr == "create"
            and isinstance(func.value, ast.Attribute) and func.value.attr == "Orchestrator")


def _is_functions_function(fn: FunctionNode) -> bool:
    return any(_FUNCTION_DECORATORS.search(_decorator_name(d) or "") for d in fn.decorator_list)


def _allowed_lines(source: str) -> dict[int, frozenset[str]]:
    """The lines with a `# durable: allow` comment and the codes each allows."""
    allowed: dict[int, frozenset[str]] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                match = _ALLOW.search(token.string)
                if match:
                    codes = frozenset(re.findall(r"DF\d{3}", match.group(1))) or {_ALL}
                    allowed[token.start[0]] = frozenset(codes)
    except (tokenize.TokenError, SyntaxError):
        pass  # the source parsed, so only a trailing oddity: the comments read so far count
    return allowed


def _check_orchestrator(module: _Module, root: str) -> list[Finding]:
    """Findings in `root` and every helper it reaches in the module."""
    findings: list[Finding] = []
    queue, done = [root], {root}
    while queue:
        name = queue.pop(0)
        fn = module.functions[name]
        scopes = [function_bindings(fn), module.bindings]
        visitor = _BodyVisitor(module, scopes, name, root)
        for statement in fn.body:
            visitor.visit(statement)
        findings += visitor.findings
        for helper in visitor.helpers:
            if helper not in done:
                done.add(helper)
                queue.append(helper)
    return findings


class _BodyVisitor(ast.NodeVisitor):
    """Walks one function body (nested functions and lambdas included), collecting the
    replay-unsafe references and the module functions it refers to."""

    def __init__(self, module: _Module, scopes: list[Bindings], function: str,
                 orchestrator: str) -> None:
        self.module = module
        self.scopes = scopes
        self.function = function
        self.orchestrator = orchestrator
        self.findings: list[Finding] = []
        self.helpers: list[str] = []

    def visit_Call(self, node: ast.Call) -> None:
        seeded = bool(node.args or node.keywords)
        if not self._check(node.func, called=True, seeded=seeded):
            self.visit(node.func)
        for child in [*node.args, *node.keywords]:
            self.visit(child)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if not self._check(node, called=False):
            self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load) and not self._check(node, called=False):
            self._note_helper(node.id)

    # Annotations and `except` clauses name types; they call nothing.
    def visit_arg(self, node: ast.arg) -> None:
        return

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        for child in (node.target, node.value):
            if child is not None:
                self.visit(child)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._visit_nested(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._visit_nested(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        for statement in node.body:
            self.visit(statement)

    def _visit_nested(self, node: FunctionNode) -> None:
        for child in [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults,
                      *node.body]:
            if child is not None:
                self.visit(child)

    def _note_helper(self, name: str) -> None:
        if any(name in scope for scope in self.scopes[:-1]):
            return  # a local name, not the module's function
        fn = self.module.functions.get(name)
        if fn is not None and self.module.bindings.get(name, "") is None \
                and not _is_functions_function(fn):
            self.helpers.append(name)

    def _check(self, node: ast.expr, called: bool, seeded: bool = False) -> bool:
        """Record a finding when `node` names a replay-unsafe thing; whether it named
        one. `seeded`: it is called with arguments (a seeded generator is replay-safe)."""
        if not isinstance(node, ast.Name | ast.Attribute):
            return False
        qualified = qualified_name(node, self.scopes)
        rule = rule_for(qualified) if qualified else None
        if rule is None or qualified is None:
            return False
        if not (seeded and qualified in SEEDED_CONSTRUCTORS) and not self._allowed(
                node.lineno, rule):
            text = ast.unparse(node) + ("()" if called else "")
            self.findings.append(self._finding(node, rule, text, qualified))
        return True

    def _allowed(self, line: int, rule: Rule) -> bool:
        codes = self.module.allowed.get(line, frozenset())
        return _ALL in codes or rule.code in codes

    def _finding(self, node: ast.expr, rule: Rule, text: str, qualified: str) -> Finding:
        return Finding(
            file=self.module.file, line=node.lineno, column=node.col_offset + 1,
            code=rule.code, call=text, qualified=qualified, function=self.function,
            orchestrator=self.orchestrator, problem=rule.problem, advice=rule.advice,
        )
