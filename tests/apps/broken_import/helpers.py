"""Deliberately broken helper: fails when imported."""

SETTINGS = {"a": 1}
VALUE = SETTINGS["missing_key"]
