"""The storage emulator's well-known account, key and ports (the same for Azurite and the
old Storage Emulator), without importing any SDK."""

DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
DEV_PORTS = {"blob": 10000, "queue": 10001, "table": 10002}
