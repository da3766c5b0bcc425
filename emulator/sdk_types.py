"""SDK-type bindings: a parameter annotated with a client class of an installed
`azurefunctions-extensions-bindings-*` package (for blobs: `BlobClient`, `ContainerClient`,
`StorageStreamDownloader` from `azurefunctions.extensions.bindings.blob`).

On Azure the Python worker asks the host for "model binding data" (which connection, which
container, which blob) and lets the extension build the client. This host does the same with
the same package, so the app gets exactly the object it gets on Azure: nothing here builds
an SDK client itself. Without the package installed, no annotation is an SDK type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MODEL_BINDING_DATA = "model_binding_data"


@dataclass(frozen=True)
class ModelBindingData:
    """What the host sends the worker for an SDK-type parameter (the worker's protobuf shape)."""

    content: str
    version: str = "1.0"
    source: str = "AzureStorageBlobs"
    content_type: str = "application/json"


def _registry() -> Any | None:
    try:
        from azurefunctions.extensions.base import get_binding_registry
    except ImportError:
        return None
    return get_binding_registry()


def converter(binding_type: str, annotation: Any) -> Any | None:
    """The extension converter that builds `annotation` for a binding of this type, or None
    when the annotation is not an SDK type (or no extension package is installed)."""
    registry = _registry()
    if registry is None or not registry.check_supported_type(annotation):
        return None
    found = registry.get(binding_type)
    if found is None or not found.check_input_type_annotation(annotation):
        return None
    return found


def blob_client(conv: Any, annotation: Any, connection: str, container: str,
                blob: str) -> Any:
    """The SDK object for a blob binding, built by the extension from model binding data."""
    from azurefunctions.extensions.base import Datum

    content = json.dumps({"Connection": connection, "ContainerName": container,
                          "BlobName": blob})
    datum = Datum(ModelBindingData(content), MODEL_BINDING_DATA)
    return conv.decode(datum, trigger_metadata=None, pytype=annotation)
