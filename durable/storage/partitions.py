"""Instance → control-queue partition, with Durable Task's exact hash.

The mapping must be the same in every process (and the same as DF's) so that all messages
of one instance land in one queue; Python's `hash()` is salted per process, FNV-1a is not.
"""

from __future__ import annotations

FNV_OFFSET_BASIS = 2166136261
FNV_PRIME = 16777619
MIN_PARTITIONS = 1
MAX_PARTITIONS = 16


def fnv1a_32(text: str) -> int:
    h = FNV_OFFSET_BASIS
    for b in text.encode("utf-8"):
        h = ((h ^ b) * FNV_PRIME) & 0xFFFFFFFF
    return h


def partition_index(instance_id: str, partition_count: int) -> int:
    """Hash the raw (unescaped, case-sensitive) instance id, as Durable Task does."""
    if not MIN_PARTITIONS <= partition_count <= MAX_PARTITIONS:
        raise ValueError(
            f"partition_count must be {MIN_PARTITIONS}..{MAX_PARTITIONS}, got {partition_count}"
        )
    return fnv1a_32(instance_id) % partition_count
