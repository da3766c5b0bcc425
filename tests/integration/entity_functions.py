"""Entities and orchestrations the entity tests run, registered through a Blueprint.

`counter` is the counter of the Durable Functions documentation (v2 model); the others
exercise failures, state that cannot be stored, signals and starts from operations, and
critical sections.
"""

from __future__ import annotations

from typing import Any

import durable as df

bp = df.Blueprint()


@bp.entity_trigger(context_name="context")
def tally(context: df.DurableEntityContext) -> None:
    current_value = context.get_state(lambda: 0)
    operation = context.operation_name
    if operation == "add":
        amount = context.get_input()
        current_value += amount
    elif operation == "reset":
        current_value = 0
    elif operation == "get":
        pass
    elif operation == "fail_after_add":
        context.set_state(current_value + 1000)
        raise ValueError("cannot add that")
    elif operation == "store_unserializable":
        context.set_state(object())
        return
    elif operation == "delete":
        context.destruct_on_exit()
        return
    elif operation == "forward":
        target, amount = context.get_input()
        context.signal_entity(df.EntityId("tally", target), "add", amount)
    elif operation == "start":
        child = context.start_new_orchestration("ent_add_twice", context.entity_key + "-child")
        context.set_result(child)
        return
    context.set_state(current_value)
    context.set_result(current_value)


@bp.entity_trigger(context_name="ctx", entity_name="Account")
def account(ctx: df.DurableEntityContext) -> None:
    balance = ctx.get_state(lambda: 0)
    if ctx.operation_name == "deposit":
        ctx.set_state(balance + ctx.get_input())
    elif ctx.operation_name == "withdraw":
        amount = ctx.get_input()
        if amount > balance:
            raise ValueError(f"insufficient funds: {balance} < {amount}")
        ctx.set_state(balance - amount)
    ctx.set_result(ctx.get_state(lambda: 0))


@bp.orchestration_trigger(context_name="context")
def ent_add_twice(context: df.DurableOrchestrationContext) -> Any:
    key = context.get_input()
    entity = df.EntityId("tally", key)
    context.signal_entity(entity, "add", 1)
    value = yield context.call_entity(entity, "add", 1)
    return value


@bp.orchestration_trigger(context_name="context")
def ent_call_failing(context: df.DurableOrchestrationContext) -> Any:
    entity = df.EntityId("tally", context.get_input())
    try:
        yield context.call_entity(entity, "fail_after_add")
    except Exception as exc:
        return {"error": str(exc), "type": type(exc).__name__,
                "error_type": getattr(exc, "error_type", None)}
    return "no error"


@bp.orchestration_trigger(context_name="context")
def ent_transfer(context: df.DurableOrchestrationContext) -> Any:
    """Move money between two accounts inside a critical section; records its steps in a
    counter so that interleaving would show."""
    source, target, amount, log_key = context.get_input()
    a, b = df.EntityId("Account", source), df.EntityId("Account", target)
    log = df.EntityId("tally", log_key)
    with (yield context.lock([a, b])):
        balance = yield context.call_entity(a, "get")
        yield context.call_activity("ent_note", [log_key, "in", context.instance_id])
        if balance >= amount:
            yield context.call_entity(a, "withdraw", amount)
            yield context.call_entity(b, "deposit", amount)
        yield context.call_activity("ent_note", [log_key, "out", context.instance_id])
    context.signal_entity(log, "add", 1)
    return balance


NOTES: list[tuple[str, str, str]] = []


@bp.activity_trigger(input_name="note")
def ent_note(note: list[str]) -> None:
    NOTES.append((note[0], note[1], note[2]))


@bp.entity_trigger(context_name="ctx", entity_name="Holder")
def holder(ctx: df.DurableEntityContext) -> None:
    if ctx.operation_name == "set":
        ctx.set_state({"text": ctx.get_input()})
    ctx.set_result(len((ctx.get_state(lambda: {"text": ""}) or {})["text"]))


@bp.orchestration_trigger(context_name="context")
def ent_big_state(context: df.DurableOrchestrationContext) -> Any:
    key, text = context.get_input()
    return (yield context.call_entity(df.EntityId("Holder", key), "set", text))


@bp.orchestration_trigger(context_name="context")
def ent_call_unknown(context: df.DurableOrchestrationContext) -> Any:
    try:
        yield context.call_entity(df.EntityId("nosuchentity", "k"), "get")
    except Exception as exc:
        return str(exc)
    return "no error"


@bp.orchestration_trigger(context_name="context")
def ent_call_start(context: df.DurableOrchestrationContext) -> Any:
    return (yield context.call_entity(df.EntityId("tally", context.get_input()), "start"))


@bp.orchestration_trigger(context_name="context")
def ent_lock_and_wait(context: df.DurableOrchestrationContext) -> Any:
    with (yield context.lock([df.EntityId("Account", context.get_input())])):
        yield context.wait_for_external_event("never")
