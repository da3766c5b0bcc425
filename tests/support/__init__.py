"""Helpers every test tier shares: replay harnesses, sample histories, task hubs on Azurite,
an in-process queue pump, and emulator host processes. Fixtures live in conftest files; the
code they use lives here."""
