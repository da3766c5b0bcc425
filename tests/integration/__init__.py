"""Storage and runtime tests against a real Azurite, through the real Azure SDKs."""
