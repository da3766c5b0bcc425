"""Blob values, between storage and a function's parameters, as the Python worker converts them.

Inputs (the blob trigger and `@app.blob_input`): a parameter annotated `str` gets the text
(UTF-8), `bytes` the content, `func.InputStream` (or no annotation) an InputStream with
`name` ("container/blob", as the host's `BlobTrigger` value), `uri`, `length`,
`blob_properties` and `metadata`; an SDK client class of an installed
`azurefunctions-extensions-bindings-blob` gets that client (see emulator.sdk_types). A missing
input blob is None. Outputs (`@app.blob_output`, `func.Out[...]` or `$return`): `str`
(written as UTF-8), `bytes`, `bytearray`, or anything with `read()`.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any

from azure.functions import _abc as func_abc
from azure.functions.blob import InputStream

from emulator import sdk_types
from emulator.errors import IndexingError


@dataclass(frozen=True)
class BlobContent:
    """A blob read from storage, with what the worker passes along with it."""

    container: str
    name: str
    uri: str
    data: bytes
    properties: dict[str, Any]
    metadata: dict[str, str]

    @property
    def path(self) -> str:
        return f"{self.container}/{self.name}"


def split_path(path: str, where: str) -> tuple[str, str]:
    """`container/blob/name` -> (container, blob name); the container must come first."""
    container, sep, name = path.strip("/").partition("/")
    if not container:
        raise IndexingError(f"{where}: the path '{path}' names no container.",
                            "Write it as 'container/blob', e.g. 'samples/{name}'.")
    return container, name if sep else ""


def plain_annotation(annotation: Any) -> Any:
    """`Optional[X]` read as X; anything else unchanged."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def check_input_annotation(function: str, binding: str, kind: str, annotation: Any) -> None:
    """IndexingError unless a blob value can be passed for `annotation`."""
    annotation = plain_annotation(annotation)
    if annotation in (None, Any, str, bytes) or sdk_types.converter("blob", annotation):
        return
    if isinstance(annotation, type) and issubclass(annotation, func_abc.InputStream):
        return
    shown = getattr(annotation, "__name__", repr(annotation))
    raise IndexingError(
        f"Function '{function}': the {kind} parameter '{binding}' is annotated as {shown}, "
        "which a blob cannot be passed as.",
        "Use func.InputStream, str or bytes (or BlobClient, ContainerClient, "
        "StorageStreamDownloader from azurefunctions.extensions.bindings.blob).",
    )


def input_value(content: BlobContent | None, annotation: Any) -> Any:
    """The parameter value for a blob input or trigger (None when the blob is missing). An
    unannotated parameter gets an InputStream whatever its `data_type`, as the worker's blob
    converter gives it."""
    if content is None:
        return None
    annotation = plain_annotation(annotation)
    if annotation is str:
        return content.data.decode("utf-8")
    if annotation is bytes:
        return content.data
    return InputStream(
        data=content.data, name=content.path, uri=content.uri, length=len(content.data),
        blob_properties=content.properties, metadata=content.metadata,
    )


def output_bytes(value: Any) -> bytes:
    """The content to write for a blob output value (the worker's BlobConverter.encode)."""
    if callable(getattr(value, "read", None)):
        value = value.read()
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise TypeError(
        f'unable to encode outgoing TypedData: unsupported type "blob" for Python type '
        f'"{type(value).__name__}"'
    )
