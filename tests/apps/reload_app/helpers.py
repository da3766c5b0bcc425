"""A module of the app's own: a change here reloads the app too."""

SUFFIX = "!"
