"""Who is calling, and which domain they may read. No Strawberry, no MongoDB here.

With ``GATEWAY_AUTH=jwt`` every request carries ``Authorization: Bearer <JWT>``; the token is
verified with PyJWT against keys loaded once at start (a JWKS file whose keys are picked by
``kid``, a PEM public key, or ``hs256:<secret>`` when explicitly allowed for development). The
algorithm comes from the key, never from the token header: RSA keys verify RS256 only, P-256 keys
ES256 only, the development secret HS256 only, so ``alg: none`` and algorithm confusion fail. The
domain is SpaceONE's ``did`` claim. With ``GATEWAY_AUTH=none`` the caller names the domain with
the ``domainId`` argument (development only).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from gateway.errors import Forbidden, RequiredParameter, Unauthenticated
from gateway.settings import Settings, hs256_secret, is_loopback

MAX_TOKEN_LENGTH = 8192
MIN_RSA_BITS = 2048


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller. ``domain_id`` is None when authentication is off (development mode)."""

    domain_id: str | None = None
    subject: str | None = None
    expires_at: float | None = field(default=None, compare=False)
    """The token's ``exp`` (seconds since the epoch); live connections end then."""

    def domain_for(self, requested: str | None) -> str:
        """The domain this caller reads, given the ``domainId`` argument they sent (if any)."""
        if self.domain_id is not None:
            if requested and requested != self.domain_id:
                raise Forbidden("domain_id differs from the domain of the token", parameter="domain_id")
            return self.domain_id
        if not requested:
            raise RequiredParameter("domain_id is required", parameter="domain_id")
        return requested


ANONYMOUS = Principal()


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """A key and the one algorithm it verifies."""

    key: Any
    algorithm: str


class UnusableKeys(ValueError):
    """A key file or key that cannot be used (raised at start, never per request)."""


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The keys tokens may be signed with: by ``kid``, or a single key for tokens without one."""

    by_kid: Mapping[str, VerificationKey] = field(default_factory=dict)
    default: VerificationKey | None = None

    def key_for(self, kid: object) -> VerificationKey:
        if kid is None:
            if self.default is None:
                raise Unauthenticated("the token header has no key id (kid)")
            return self.default
        if not self.by_kid and self.default is not None:
            return self.default  # a single key without a kid verifies every token
        if not isinstance(kid, str) or kid not in self.by_kid:
            raise Unauthenticated("the token was signed with an unknown key")
        return self.by_kid[kid]


def _algorithm_for(key: Any, where: str) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise UnusableKeys(f"{where}: RSA keys must have at least {MIN_RSA_BITS} bits")
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise UnusableKeys(f"{where}: only P-256 elliptic-curve keys (ES256) are supported")
        return "ES256"
    raise UnusableKeys(f"{where}: only RSA (RS256) and P-256 (ES256) public keys are supported")


def _jwk_key(jwk: Mapping[str, Any], where: str) -> VerificationKey:
    if not isinstance(jwk, Mapping) or jwk.get("kty") not in ("RSA", "EC"):
        raise UnusableKeys(f"{where}: only RSA and EC keys are supported (kty)")
    if "d" in jwk:
        raise UnusableKeys(f"{where}: a private key was given; publish only public keys")
    try:
        key = jwt.PyJWK.from_dict(dict(jwk)).key
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError) as error:
        raise UnusableKeys(f"{where}: unusable key: {error}") from None
    algorithm = _algorithm_for(key, where)
    if jwk.get("alg") not in (None, algorithm):
        raise UnusableKeys(f"{where}: alg {jwk.get('alg')!r} does not fit the key ({algorithm})")
    return VerificationKey(key, algorithm)


def load_key_ring(spec: str, *, allow_hs256: bool) -> KeyRing:
    """``hs256:<secret>``, a JWKS JSON file, a single JWK file, or a PEM public key file."""
    try:
        secret = hs256_secret(spec, allowed=allow_hs256)  # the settings' rules, checked at start
    except ValueError as error:
        raise UnusableKeys(str(error)) from None
    if secret is not None:
        return KeyRing(default=VerificationKey(secret.encode(), "HS256"))
    try:
        raw = Path(spec).read_bytes()
    except OSError as error:
        raise UnusableKeys(f"cannot read the key file {spec!r}: {error.strerror}") from None
    if raw.lstrip().startswith(b"{"):
        return _jwks_ring(raw, spec)
    try:
        key = load_pem_public_key(raw)
    except ValueError:
        raise UnusableKeys(f"{spec}: neither a JWKS JSON document nor a PEM public key") from None
    return KeyRing(default=VerificationKey(key, _algorithm_for(key, spec)))


def _jwks_ring(raw: bytes, where: str) -> KeyRing:
    try:
        document = json.loads(raw)
    except ValueError as error:
        raise UnusableKeys(f"{where}: invalid JSON: {error}") from None
    jwks = document.get("keys") if isinstance(document, dict) and "keys" in document else [document]
    if not isinstance(jwks, list) or not jwks:
        raise UnusableKeys(f"{where}: the JWKS has no keys")
    by_kid: dict[str, VerificationKey] = {}
    for index, jwk in enumerate(jwks):
        key = _jwk_key(jwk, f"{where} key {index}")
        kid = jwk.get("kid")
        if kid is None and len(jwks) > 1:
            raise UnusableKeys(f"{where} key {index}: in a JWKS of several keys each needs a kid")
        if kid is not None:
            if not isinstance(kid, str) or kid in by_kid:
                raise UnusableKeys(f"{where} key {index}: kid must be a unique string")
            by_kid[kid] = key
    default = _jwk_key(jwks[0], where) if len(jwks) == 1 else None
    return KeyRing(by_kid=by_kid, default=default)


@dataclass(frozen=True, slots=True)
class TokenVerifier:
    """Verifies bearer tokens and turns them into principals."""

    keys: KeyRing
    leeway_seconds: int
    issuer: str | None = None
    audience: str | None = None

    def principal(self, token: str) -> Principal:
        if len(token) > MAX_TOKEN_LENGTH:
            raise Unauthenticated("the token is too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:  # malformed, or a header PyJWT refuses (kid not text, crit, …)
            raise Unauthenticated("the token is malformed") from None
        key = self.keys.key_for(header.get("kid"))
        claims = self._decode(token, key)
        domain = claims.get("did")
        if not isinstance(domain, str) or not domain:
            raise Unauthenticated("the token has no domain (did claim)")
        subject = claims.get("sub", claims.get("aud"))
        expiry = claims.get("exp")
        return Principal(
            domain_id=domain,
            subject=subject if isinstance(subject, str) else None,
            expires_at=float(expiry) if isinstance(expiry, (int, float)) else None,
        )

    def _decode(self, token: str, key: VerificationKey) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm],
                leeway=self.leeway_seconds,
                issuer=self.issuer,
                audience=self.audience,
                options={"require": ["exp"], "verify_aud": self.audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("the token is not valid yet (nbf)") from None
        except jwt.InvalidAlgorithmError:
            raise Unauthenticated("the token is signed with an algorithm this key does not verify") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("the token signature does not verify") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("the token was issued by an unexpected issuer") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("the token is meant for another audience") from None
        except jwt.MissingRequiredClaimError as error:
            raise Unauthenticated(f"the token has no '{error.claim}' claim") from None
        except jwt.PyJWTError:
            raise Unauthenticated("the token is invalid") from None
        return claims


@dataclass(frozen=True, slots=True)
class Authenticator:
    """Turns the ``Authorization`` header of a request into a principal (or refuses it)."""

    verifier: TokenVerifier | None = None

    def principal_for(self, authorization: str | None) -> Principal:
        if self.verifier is None:
            return ANONYMOUS
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("an 'Authorization: Bearer <token>' header is required")
        return self.verifier.principal(token.strip())


def build_authenticator(settings: Settings) -> Authenticator:
    """The authenticator the settings ask for; raises :class:`UnusableKeys` on unusable keys."""
    if settings.auth == "none":
        return Authenticator()
    assert settings.jwt_keys is not None  # checked by Settings
    ring = load_key_ring(settings.jwt_keys, allow_hs256=settings.jwt_allow_hs256)
    return Authenticator(
        TokenVerifier(
            ring,
            leeway_seconds=settings.jwt_leeway_seconds,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
    )


def insecure_mode_warning(settings: Settings) -> str | None:
    """The warning to log at start when anyone on the network may read any domain."""
    if settings.auth == "none" and not is_loopback(settings.host):
        return (
            f"authentication is off (GATEWAY_AUTH=none) while listening on {settings.host}: "
            "any client that reaches this port can read every domain; set GATEWAY_AUTH=jwt"
        )
    return None
