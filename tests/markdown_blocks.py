"""Reading the examples of the Markdown documents: fenced blocks (with the ``<!-- marker -->``
line before them) and the ``curl`` commands to the gateway in shell blocks."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\s*$")
MARKER = re.compile(r"^<!--\s*(?P<name>[\w-]+)\s*-->$")
GATEWAY = "localhost:8000"


@dataclass
class Block:
    path: Path
    line: int
    lang: str
    text: str
    marker: str | None

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> Iterator[Block]:
    """The fenced blocks of a Markdown file, each with the marker comment right before it."""
    lines = path.read_text().splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        previous = next((line.strip() for line in reversed(lines[:index]) if line.strip()), "")
        marker = MARKER.match(previous)
        end = next(i for i in range(index + 1, len(lines)) if lines[i].strip() == "```")
        yield Block(
            path, index + 1, opening["lang"], "\n".join(lines[index + 1 : end]), marker and marker["name"]
        )
        index = end + 1


@dataclass
class CurlRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: str | None


def curl_requests(script: str) -> list[CurlRequest]:
    """The requests of the ``curl`` commands to the gateway in a shell snippet."""
    words = shlex.split(script.replace("\\\n", " "), comments=True)
    requests = []
    starts = [i for i, word in enumerate(words) if word == "curl"]
    for start, stop in zip(starts, [*starts[1:], len(words)], strict=False):
        request = _curl(words[start + 1 : stop])
        if request.url:
            requests.append(request)
    return requests


def _curl(words: list[str]) -> CurlRequest:
    method, url, headers, body = None, "", {}, None
    taking = iter(words)
    for word in taking:
        if word in ("&&", "||", "|", ";"):
            break
        if word in ("-H", "--header"):
            name, _, value = next(taking).partition(":")
            headers[name.strip().lower()] = value.strip()
        elif word in ("-d", "--data", "--data-raw", "--data-binary"):
            body = next(taking)
        elif word in ("-X", "--request"):
            method = next(taking)
        elif word.startswith("-"):
            assert word in ("-s", "--silent", "-S", "-sS", "--show-error"), f"unsupported curl option {word}"
        elif GATEWAY in word:
            url = word if "://" in word else f"http://{word}"
    return CurlRequest(method or ("POST" if body is not None else "GET"), url, headers, body)
