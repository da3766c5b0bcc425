"""The replay-check fixture app as it was when its instances started."""

from __future__ import annotations

from replay_orchestrators import bp

import durable as df

app = df.DFApp()
app.register_functions(bp)
