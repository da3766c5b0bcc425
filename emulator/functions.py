"""What the host knows about one function, read from `azure.functions` metadata
(`get_trigger()`, `get_bindings()`, `get_user_function()`), and checked the way the Python
worker checks it when it loads a function."""

from __future__ import annotations

import enum
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func
from azure.functions import _abc as func_abc

from emulator.errors import IndexingError

HTTP_TRIGGER = "httpTrigger"
QUEUE_TRIGGER = "queueTrigger"
TIMER_TRIGGER = "timerTrigger"
BLOB_TRIGGER = "blobTrigger"
SUPPORTED_TRIGGERS = (HTTP_TRIGGER, QUEUE_TRIGGER, TIMER_TRIGGER, BLOB_TRIGGER)
# Binding types this host reads before an invocation / writes after it.
SUPPORTED_INPUTS = frozenset({"blob", "table"})
SUPPORTED_OUTPUTS = frozenset({"queue", "blob", "table", "http"})
RETURN = "$return"
_TRIGGER_TYPES: dict[str, type] = {
    HTTP_TRIGGER: func_abc.HttpRequest,
    QUEUE_TRIGGER: func_abc.QueueMessage,
    TIMER_TRIGGER: func_abc.TimerRequest,
}


@dataclass(frozen=True)
class BindingSpec:
    name: str
    type: str
    direction: str  # "in" or "out"
    config: dict[str, Any]  # function.json keys (camelCase), enums as their values


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    func: Callable[..., Any]
    is_async: bool
    trigger: BindingSpec
    inputs: tuple[BindingSpec, ...]  # input bindings other than the trigger
    outputs: tuple[BindingSpec, ...]  # output bindings other than $return
    return_binding: BindingSpec | None
    params: frozenset[str]  # binding names the callable takes
    context_param: str | None
    unsupported: tuple[BindingSpec, ...]  # bindings this host cannot supply
    # Parameter annotations by binding name (`func.Out[T]` unwrapped to T); absent if none.
    annotations: dict[str, Any] = field(default_factory=dict)
    retry: dict[str, Any] | None = None  # the @app.retry setting, as the library gives it

    @property
    def trigger_type(self) -> str:
        return self.trigger.type

    @property
    def uses_binding_data(self) -> bool:
        """Whether any binding's names can hold expressions over the trigger's data (blob
        and table bindings): only then is that data worked out for an invocation."""
        bound = (*self.inputs, *self.outputs, self.return_binding)
        return any(b is not None and b.type in ("blob", "table") for b in bound)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _binding(binding: Any) -> BindingSpec:
    raw = {k: _plain(v) for k, v in binding.get_dict_repr().items()}
    direction = "out" if raw.get("direction") in (1, "OUT", "out") else "in"
    return BindingSpec(str(binding.name), str(binding.type), direction, raw)


def build_spec(function: func.Function) -> FunctionSpec:
    """A FunctionSpec from the library's Function object; IndexingError if it cannot work."""
    name = str(function.get_function_name())
    trigger_obj = function.get_trigger()
    if trigger_obj is None:
        raise IndexingError(f"Function '{name}' has no trigger.")
    trigger = _binding(trigger_obj)
    bindings = [_binding(b) for b in function.get_bindings()]
    user_func = function.get_user_function()
    try:
        signature = inspect.signature(user_func)
    except (TypeError, ValueError) as exc:
        raise IndexingError(f"Function '{name}': cannot read its signature: {exc}") from None
    params, context_param = _bind_parameters(name, signature, bindings)
    _check_trigger_annotation(name, user_func, trigger)
    others = [b for b in bindings if b.name != trigger.name]
    outputs = tuple(b for b in others if b.direction == "out" and b.name != RETURN)
    return_binding = next((b for b in bindings if b.name == RETURN), None)
    unsupported = tuple(
        b for b in others
        if b.type not in (SUPPORTED_INPUTS if b.direction == "in" else SUPPORTED_OUTPUTS)
    )
    return FunctionSpec(
        name=name,
        func=user_func,
        is_async=inspect.iscoroutinefunction(user_func),
        trigger=trigger,
        inputs=tuple(b for b in others if b.direction == "in" and b not in unsupported),
        outputs=tuple(b for b in outputs if b not in unsupported),
        return_binding=return_binding,
        params=frozenset(params),
        context_param=context_param,
        unsupported=unsupported,
        annotations=_annotations(user_func, {b.name for b in bindings}),
        retry=_retry_setting(function),
    )


def _annotations(user_func: Callable[..., Any], names: set[str]) -> dict[str, Any]:
    """Annotations of binding parameters, `func.Out[T]` read as T (as the worker does)."""
    try:
        hints = typing.get_type_hints(user_func)
    except Exception:  # unresolvable string annotations: treated as unannotated
        return {}
    result: dict[str, Any] = {}
    for name, hint in hints.items():
        if name not in names and name != "return":
            continue
        origin = typing.get_origin(hint)
        if isinstance(origin, type) and issubclass(origin, func.Out):
            args = typing.get_args(hint)
            hint = args[0] if args else Any
        result[RETURN if name == "return" else name] = hint
    return result


def _retry_setting(function: func.Function) -> dict[str, Any] | None:
    getter = getattr(function, "get_settings_dict", None)
    setting = getter("retry_policy") if callable(getter) else None
    return dict(setting) if setting else None


def _bind_parameters(
    name: str, signature: inspect.Signature, bindings: list[BindingSpec]
) -> tuple[set[str], str | None]:
    binding_names = {b.name for b in bindings}
    params: set[str] = set()
    context_param: str | None = None
    unbound: list[str] = []
    for param in signature.parameters.values():
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            params.update(binding_names - {RETURN})
        elif param.name in binding_names:
            params.add(param.name)
        elif param.name == "context" or param.annotation is func.Context:
            context_param = param.name
        else:
            unbound.append(param.name)
    if unbound:
        declared = ", ".join(sorted(binding_names - {RETURN})) or "none"
        raise IndexingError(
            f"Function '{name}': parameter(s) {', '.join(repr(u) for u in unbound)} are not "
            f"bound to its trigger or to any binding (bindings: {declared}).",
            "Rename the parameter to match a binding's arg_name, or add `context` for "
            "func.Context.",
        )
    return params, context_param


def _check_trigger_annotation(
    name: str, user_func: Callable[..., Any], trigger: BindingSpec
) -> None:
    expected = _TRIGGER_TYPES.get(trigger.type)
    if expected is None:
        return
    try:
        hints = typing.get_type_hints(user_func)
    except Exception:  # unresolvable string annotations: the worker would not check either
        return
    annotation = hints.get(trigger.name)
    if isinstance(annotation, type) and not issubclass(annotation, expected):
        raise IndexingError(
            f"Function '{name}': the {trigger.type} parameter '{trigger.name}' is annotated "
            f"as {annotation.__name__}, but the trigger passes a {expected.__name__}.",
        )
