"""``python -m gateway fetch-graphiql``: put the pinned GraphiQL assets where the gateway serves them.

Each pinned package is fetched with ``npm pack`` (the npm registry, or the mirror npm is
configured for), the needed files are taken out of the tarball, checked against their pinned
Subresource Integrity hash, and written with the package's licence next to them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import tarfile
import tempfile
from itertools import groupby
from pathlib import Path

from gateway.http.graphiql import ASSETS, VENDOR_DIR, Asset


class AssetFetchError(RuntimeError):
    """The assets could not be fetched or did not match their pinned hash."""


def integrity_of(data: bytes) -> str:
    """The Subresource Integrity value (``sha384-...``) of ``data``."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def fetch_assets(destination: Path = VENDOR_DIR, npm: str = "npm") -> list[Path]:
    """Fetch every pinned asset into ``destination``; returns the files written."""
    if shutil.which(npm) is None:
        raise AssetFetchError(f"{npm!r} was not found: install Node.js and npm to fetch GraphiQL")
    destination.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as scratch:
        for (package, version), assets in groupby(ASSETS, lambda a: (a.package, a.version)):
            tarball = _npm_pack(npm, f"{package}@{version}", Path(scratch))
            written += _extract(tarball, list(assets), destination, licence=f"{package}.LICENSE")
    return written


def _npm_pack(npm: str, spec: str, directory: Path) -> Path:
    command = [npm, "pack", spec, "--json", "--silent", "--pack-destination", str(directory)]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    if result.returncode != 0:
        raise AssetFetchError(f"`{' '.join(command)}` failed: {result.stderr.strip()[-500:]}")
    filename: str = json.loads(result.stdout)[0]["filename"]
    return directory / filename


def _extract(tarball: Path, assets: list[Asset], destination: Path, licence: str) -> list[Path]:
    written: list[Path] = []
    with tarfile.open(tarball) as archive:
        for asset in assets:
            data = _member(archive, asset.path)
            if integrity_of(data) != asset.integrity:
                raise AssetFetchError(
                    f"{asset.package}@{asset.version}/{asset.path} does not match its pinned "
                    f"hash {asset.integrity}"
                )
            written.append(_write(destination / asset.filename, data))
        written.append(_write(destination / licence, _member(archive, "LICENSE")))
    return written


def _member(archive: tarfile.TarFile, path: str) -> bytes:
    try:
        member = archive.extractfile(f"package/{path}")
    except KeyError:
        member = None
    if member is None:
        raise AssetFetchError(f"{path} is missing from {archive.name!r}")
    return member.read()


def _write(path: Path, data: bytes) -> Path:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)
    return path
