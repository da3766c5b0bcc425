"""Trigger listeners: HTTP, queue and timer."""
