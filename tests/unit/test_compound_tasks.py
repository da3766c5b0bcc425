"""task_all's bookkeeping on its own (no replay): children counted down as they finish."""

from __future__ import annotations

from durable.core.task import AtomicTask, WhenAllTask


def atomic(n: int) -> AtomicTask:
    return AtomicTask(n, f"task {n}")


def test_task_all_completes_when_its_last_child_does_in_any_order() -> None:
    children = [atomic(i) for i in range(5)]
    whole = WhenAllTask(children)
    for i in (3, 0, 4, 1):
        children[i]._set_result(i * 10)
        assert not whole.is_completed
    children[2]._set_result(20)
    assert whole.is_completed and whole.result == [0, 10, 20, 30, 40]


def test_task_all_counts_children_done_before_it_and_a_task_given_twice() -> None:
    done, twice, later = atomic(0), atomic(1), atomic(2)
    done._set_result("d")
    whole = WhenAllTask((done, twice, twice, later))
    twice._set_result("t")
    assert not whole.is_completed
    later._set_result("l")
    assert whole.result == ["d", "t", "t", "l"]


def test_task_all_fails_with_the_first_failure_and_ignores_later_children() -> None:
    children = [atomic(i) for i in range(3)]
    whole = WhenAllTask(children)
    children[1]._set_exception(ValueError("boom"))
    assert whole.is_faulted and isinstance(whole.exception, ValueError)
    children[0]._set_result(0)
    children[2]._set_result(2)
    assert whole.is_faulted


def test_a_large_fan_in_does_not_look_at_its_siblings_per_completion() -> None:
    # Each completion used to re-check every sibling: O(N^2) for a fan-in of N, which at
    # 10,000 branches was most of an episode's CPU. A child that counts how often its state
    # is asked shows that completions no longer scan.
    asked = 0

    class Counted(AtomicTask):
        @property
        def is_completed(self) -> bool:
            nonlocal asked
            asked += 1
            return super().is_completed

    children = [Counted(i, f"task {i}") for i in range(2000)]
    whole = WhenAllTask(children)
    asked = 0
    for i, child in enumerate(children):
        child._set_result(i)
    assert whole.result == list(range(2000))
    assert asked <= 3 * len(children)
