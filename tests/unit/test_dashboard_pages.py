"""The dashboard's page as served (no storage): every file the HTML names is shipped and
inlined, the settings go in as JSON that cannot close its element, a script cannot end its
element early; and poison message bodies become readable."""

from __future__ import annotations

import base64
import json
import re

from durable.http.dashboard import pages
from durable.storage.poison import readable


def test_every_file_the_page_names_is_shipped_and_inlined() -> None:
    html = pages.static_text("index.html")
    named = re.findall(r'(?:src|href)="([\w.-]+\.(?:js|css))"', html)
    assert "dashboard.js" in named and "dashboard.css" in named
    assert set(named) <= set(pages.static_names())
    served = pages.render(pages.DashboardSettings(), "Hub</script><b>", "n0nce")
    assert not re.search(r'<script src=|<link rel="stylesheet"', served)
    assert served.count('<script nonce="n0nce">') == sum(n.endswith(".js") for n in named)
    config = re.search(r'type="application/json">(.*?)</script>', served)
    assert config is not None
    assert json.loads(config[1]) == {"readOnly": False, "taskHub": "Hub</script><b>"}
    assert "</script><b>" not in served


def test_a_script_cannot_close_its_element() -> None:
    assert pages._inline_script('x = "</script>"; y = "</td>"') == 'x = "<\\/script>"; y = "</td>"'


def test_poison_bodies_are_read_as_json_when_they_are() -> None:
    body = {"instance": "a", "n": 1}
    assert readable(json.dumps(body)) == body
    assert readable(base64.b64encode(json.dumps(body).encode()).decode()) == body
    assert readable(b"plain words") == "plain words"
    assert readable("aGVsbG8=") == "aGVsbG8="  # base64 of text that is not JSON stays as sent
