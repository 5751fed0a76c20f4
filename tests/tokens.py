"""Keys and tokens minted for tests: RSA and P-256 key pairs, JWKS and PEM files, and tokens."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


@dataclass(frozen=True)
class KeyPair:
    private: Any
    kid: str

    @classmethod
    def rsa(cls, kid: str = "rsa-1", bits: int = 2048) -> KeyPair:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=bits), kid)

    @classmethod
    def ec(cls, kid: str = "ec-1", curve: ec.EllipticCurve | None = None) -> KeyPair:
        return cls(ec.generate_private_key(curve or ec.SECP256R1()), kid)

    @property
    def algorithm(self) -> str:
        return "RS256" if isinstance(self.private, rsa.RSAPrivateKey) else "ES256"

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def jwk(self) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.algorithm)
        jwk = json.loads(algorithm.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig"}

    def token(self, claims: dict[str, Any], *, kid: str | None = "same", algorithm: str | None = None) -> str:
        headers = {"kid": self.kid if kid == "same" else kid} if kid else None
        return jwt.encode(claims, self.private, algorithm=algorithm or self.algorithm, headers=headers)


def claims(domain: str | None = "domain-aaaaaaaaaaaa", **extra: Any) -> dict[str, Any]:
    """SpaceONE-like access-token claims, valid for an hour."""
    now = int(time.time())
    body: dict[str, Any] = {
        "cat": "ACCESS_TOKEN",
        "iss": "spaceone.identity",
        "aud": "user@example.com",
        "iat": now,
        "exp": now + 3600,
    }
    if domain is not None:
        body["did"] = domain
    body.update(extra)
    return {key: value for key, value in body.items() if value is not None}


def write_jwks(path: Path, *pairs: KeyPair) -> Path:
    path.write_text(json.dumps({"keys": [pair.jwk() for pair in pairs]}))
    return path


def write_pem(path: Path, pair: KeyPair) -> Path:
    path.write_bytes(pair.public_pem())
    return path


def unsigned_token(body: dict[str, Any]) -> str:
    """A token with ``alg: none`` and no signature."""
    return jwt.encode(body, None, algorithm="none")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def hmac_token(body: dict[str, Any], secret: bytes, *, kid: str | None = None) -> str:
    """An HS256 token signed by hand (PyJWT refuses PEM keys as HMAC secrets, an attacker
    does not): used to forge algorithm-confusion tokens with a public key as the secret."""
    import base64  # noqa: PLC0415
    import hashlib  # noqa: PLC0415
    import hmac  # noqa: PLC0415

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = {"alg": "HS256", "typ": "JWT", **({"kid": kid} if kid else {})}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(body).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"
