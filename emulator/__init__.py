"""A local Azure Functions host for Python v2-programming-model apps (`python -m emulator`).

Layer 4 of the design: it serves any `function_app.py` against Azurite or a storage account
and knows nothing durable-specific beyond two generic hooks (see emulator/indexer.py for
`get_durable_functions()` and emulator/listeners/http.py for `runtime/webhooks/` routes).
"""
