"""Offline: the package's computations and the book's execution need no network, and the built
site loads nothing from a remote host.

The network is cut by refusing every ``socket.connect`` / ``connect_ex`` to a non-loopback
address and every name lookup of a non-local host (loopback stays open: Jupyter kernels talk to
their clients over 127.0.0.1). The same guard is installed three ways: as a pytest fixture (in
this process), in a fresh Python process that computes every verdict (no cache of an earlier test
can hide a download), and, through a ``sitecustomize`` module, in every process and kernel of the
second execution of the book in ``tests/test_determinism.py``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tracking_evidence import data

from .conftest import ROOT

HTML = ROOT / "_build" / "html"

GUARD = r'''
import ipaddress, os, socket

def _local(host):
    if host in ("localhost", "", None) or (isinstance(host, str) and host.endswith(".localhost")):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False

class NetworkBlocked(OSError):
    pass

_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

def _check(address):
    if isinstance(address, tuple) and not _local(address[0]):
        raise NetworkBlocked(f"network access blocked (offline test): connect to {address!r}")

def connect(self, address):
    _check(address)
    return _connect(self, address)

def connect_ex(self, address):
    _check(address)
    return _connect_ex(self, address)

def getaddrinfo(host, *args, **kwargs):
    if not _local(host.decode() if isinstance(host, bytes) else host):
        raise NetworkBlocked(f"network access blocked (offline test): name lookup of {host!r}")
    return _getaddrinfo(host, *args, **kwargs)
'''

INSTALL = r'''
socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
_marks = os.environ.get("OFFLINE_GUARD_MARKS")
if _marks:
    open(os.path.join(_marks, str(os.getpid())), "w").close()
'''


def offline_env(folder: Path) -> tuple[dict, Path]:
    """An environment whose Python processes (and Jupyter kernels) start with the network guard:
    ``folder/sitecustomize.py`` on ``PYTHONPATH``; each guarded process leaves a file in the
    returned marks folder, so a caller can check that the guard really ran."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(GUARD + INSTALL, encoding="utf-8")
    marks = folder / "marks"
    marks.mkdir(exist_ok=True)
    path = os.pathsep.join(p for p in [str(folder), os.environ.get("PYTHONPATH", "")] if p)
    return dict(os.environ, PYTHONPATH=path, OFFLINE_GUARD_MARKS=str(marks)), marks


@pytest.fixture
def no_network(monkeypatch):
    """Refuse non-loopback connections and name lookups in this process for the test's duration."""
    namespace: dict = {}
    exec(compile(GUARD, "<offline guard>", "exec"), namespace)  # definitions only: monkeypatch installs
    monkeypatch.setattr(socket.socket, "connect", namespace["connect"])
    monkeypatch.setattr(socket.socket, "connect_ex", namespace["connect_ex"])
    monkeypatch.setattr(socket, "getaddrinfo", namespace["getaddrinfo"])
    return namespace["NetworkBlocked"]


def test_guard_refuses_remote_and_allows_loopback(no_network):
    with pytest.raises(no_network, match="blocked"):
        socket.create_connection(("93.184.216.34", 80), timeout=1)
    with pytest.raises(no_network, match="name lookup"):
        socket.getaddrinfo("pypi.org", 443)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=1)
    client.close()
    server.close()


def test_every_dataset_loads_offline(no_network):
    for key in data.DATASETS:
        assert len(data.load(key)) > 0, key


def test_every_verdict_computes_offline(tmp_path):
    """A fresh process with the guard installed at start-up computes the whole ledger and runs
    every claim's rule: none of them needs the network."""
    env, marks = offline_env(tmp_path / "guard")
    script = (
        "from tracking_evidence.site import ledger as claims_ledger\n"
        "from tracking_evidence.verdicts import VERDICTS, all_rules, judge\n"
        "table = claims_ledger.ledger()\n"
        "owners = all_rules()\n"
        "assert owners, 'no verdict rule registered'\n"
        "for claim_id in sorted(owners):\n"
        "    result = judge(claim_id)\n"
        "    assert result.verdict in VERDICTS, (claim_id, result.verdict)\n"
        "print(len(table), len(owners))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert list(marks.iterdir()), "the network guard did not run in the subprocess"
    n_claims, n_owners = map(int, done.stdout.split())
    assert n_owners > 0 and n_claims >= n_owners


# ---- the built site loads nothing from a remote host ---------------------------------------------


class _Resources(HTMLParser):
    """Every address a page loads by itself: script src, stylesheet/preload/icon/manifest link href,
    img/source/iframe/audio/video/embed src, object data, and url()/@import in inline styles."""

    LOADING_RELS = {"stylesheet", "preload", "modulepreload", "icon", "shortcut", "manifest", "prefetch",
                    "apple-touch-icon", "mask-icon"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str]] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in {"script", "img", "iframe", "source", "audio", "video", "embed", "track"} and a.get("src"):
            self.urls.append((tag, a["src"]))
        if tag == "img" and a.get("srcset"):
            self.urls.extend((tag, part.split()[0]) for part in a["srcset"].split(",") if part.strip())
        if tag == "link" and a.get("href") and set((a.get("rel") or "").lower().split()) & self.LOADING_RELS:
            self.urls.append((f"link rel={a.get('rel')}", a["href"]))
        if tag == "object" and a.get("data"):
            self.urls.append((tag, a["data"]))
        if a.get("style"):
            self.urls.extend(("style attribute", u) for u in _css_urls(a["style"]))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, text):
        if self._in_style:
            self.urls.extend(("style element", u) for u in _css_urls(text))


CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+(?:url\()?\s*['"]([^'"]+)""")


def _css_urls(css: str) -> list[str]:
    return [a or b for a, b in CSS_URL.findall(css)]


def _remote(url: str) -> bool:
    parsed = urlparse(url.strip())
    return bool(parsed.netloc) or parsed.scheme not in {"", "data", "blob"}


def _site_files(pattern: str) -> list[Path]:
    if not HTML.exists():
        pytest.fail(f"{HTML} is missing: run `make book` (make test does) before the site tests")
    return sorted(HTML.rglob(pattern))


def test_resource_parser_finds_remote_loads():
    """The check below can fail: a page with a CDN script, stylesheet and font is caught."""
    parser = _Resources()
    parser.feed('<script src="https://cdn.example.org/x.js"></script><link rel="stylesheet" href="//fonts.example.org/f.css">'
                '<style>@font-face { src: url("https://fonts.example.org/a.woff2"); }</style>'
                '<a href="https://example.org/">a link is not a load</a><script src="_static/local.js"></script>')
    remote = [url for _, url in parser.urls if _remote(url)]
    assert remote == ["https://cdn.example.org/x.js", "//fonts.example.org/f.css", "https://fonts.example.org/a.woff2"]


def test_no_page_loads_from_a_remote_host():
    pages = _site_files("*.html")
    assert len(pages) > 10
    problems = []
    for page in pages:
        parser = _Resources()
        parser.feed(page.read_text(encoding="utf-8"))
        problems += [f"{page.relative_to(HTML)}: <{tag}> {url}" for tag, url in parser.urls if _remote(url)]
    assert not problems, "remote loads:\n" + "\n".join(problems[:40])


def test_no_stylesheet_loads_a_remote_font_or_import():
    sheets = _site_files("*.css")
    assert sheets
    problems = []
    for sheet in sheets:
        for url in _css_urls(sheet.read_text(encoding="utf-8", errors="replace")):
            if _remote(url):
                problems.append(f"{sheet.relative_to(HTML)}: {url}")
    assert not problems, "remote url()/@import in stylesheets:\n" + "\n".join(problems[:40])


def test_mathjax_is_served_locally():
    index = (HTML / "book" / "intro.html")
    if not index.exists():
        pytest.fail(f"{index} is missing: run `make book` first")
    parser = _Resources()
    parser.feed(index.read_text(encoding="utf-8"))
    mathjax = [url for _, url in parser.urls if "mathjax" in url.lower()]
    assert mathjax, "no MathJax script on the intro page"
    for url in mathjax:
        assert not _remote(url), url
        assert (index.parent / url.split("?")[0]).resolve().exists(), f"{url} does not resolve to a file of the site"
