"""The dashboard: static pages served by the management API, talking only to that API."""
