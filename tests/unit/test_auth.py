"""Token verification: keys from JWKS, PEM and development secrets; every malformed, expired,
forged or misdirected token is refused with UNAUTHENTICATED."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError

from gateway.auth import (
    Authenticator,
    Principal,
    TokenVerifier,
    UnusableKeys,
    build_authenticator,
    insecure_mode_warning,
    load_key_ring,
)
from gateway.errors import Forbidden, RequiredParameter, Unauthenticated
from gateway.settings import Settings
from tests.tokens import KeyPair, claims, hmac_token, unsigned_token, write_jwks, write_pem

DOMAIN = "domain-aaaaaaaaaaaa"
SECRET = "development-secret-of-at-least-32-chars"
LEEWAY = Settings().jwt_leeway_seconds


@pytest.fixture(scope="module")
def rsa_pair() -> KeyPair:
    return KeyPair.rsa("rsa-1")


@pytest.fixture(scope="module")
def ec_pair() -> KeyPair:
    return KeyPair.ec("ec-1")


@pytest.fixture
def jwks_verifier(tmp_path: Path, rsa_pair: KeyPair, ec_pair: KeyPair) -> TokenVerifier:
    ring = load_key_ring(str(write_jwks(tmp_path / "jwks.json", rsa_pair, ec_pair)), allow_hs256=False)
    return TokenVerifier(ring, leeway_seconds=LEEWAY)


def refused(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as raised:
        verifier.principal(token)
    assert raised.value.code == "UNAUTHENTICATED"
    assert raised.value.spaceone_code == "ERROR_AUTHENTICATE_FAILURE"
    return raised.value.message


def test_jwks_keys_are_picked_by_kid(jwks_verifier: TokenVerifier, rsa_pair: KeyPair, ec_pair: KeyPair) -> None:
    for pair in (rsa_pair, ec_pair):
        principal = jwks_verifier.principal(pair.token(claims(DOMAIN)))
        assert principal == Principal(domain_id=DOMAIN, subject="user@example.com")


def test_a_pem_public_key_verifies_tokens_without_kid(tmp_path: Path, ec_pair: KeyPair) -> None:
    verifier = TokenVerifier(
        load_key_ring(str(write_pem(tmp_path / "k.pem", ec_pair)), allow_hs256=False), leeway_seconds=LEEWAY
    )
    assert verifier.principal(ec_pair.token(claims(DOMAIN), kid=None)).domain_id == DOMAIN


def test_expired_and_not_yet_valid_tokens_are_refused_beyond_the_leeway(
    jwks_verifier: TokenVerifier, rsa_pair: KeyPair
) -> None:
    now = int(time.time())
    assert "expired" in refused(jwks_verifier, rsa_pair.token(claims(exp=now - 31)))
    assert "not valid yet" in refused(jwks_verifier, rsa_pair.token(claims(nbf=now + 60)))
    # within the 30 s leeway: accepted
    assert jwks_verifier.principal(rsa_pair.token(claims(exp=now - 10))).domain_id == DOMAIN
    assert jwks_verifier.principal(rsa_pair.token(claims(nbf=now + 10))).domain_id == DOMAIN


def test_a_token_without_exp_is_refused(jwks_verifier: TokenVerifier, rsa_pair: KeyPair) -> None:
    assert "'exp'" in refused(jwks_verifier, rsa_pair.token(claims(exp=None)))


def test_a_token_signed_by_another_key_is_refused(jwks_verifier: TokenVerifier) -> None:
    impostor = KeyPair.rsa("rsa-1")  # same kid, different key
    assert "signature" in refused(jwks_verifier, impostor.token(claims()))
    assert "unknown key" in refused(jwks_verifier, KeyPair.ec("ec-9").token(claims()))


def test_alg_none_is_refused(jwks_verifier: TokenVerifier, tmp_path: Path, rsa_pair: KeyPair) -> None:
    refused(jwks_verifier, unsigned_token(claims()))
    pem_verifier = TokenVerifier(
        load_key_ring(str(write_pem(tmp_path / "k.pem", rsa_pair)), allow_hs256=False), leeway_seconds=LEEWAY
    )
    assert "algorithm" in refused(pem_verifier, unsigned_token(claims()))


def test_algorithm_confusion_with_the_public_key_as_hmac_secret_is_refused(
    tmp_path: Path, rsa_pair: KeyPair, jwks_verifier: TokenVerifier
) -> None:
    pem = rsa_pair.public_pem()
    pem_verifier = TokenVerifier(
        load_key_ring(str(write_pem(tmp_path / "k.pem", rsa_pair)), allow_hs256=False), leeway_seconds=LEEWAY
    )
    assert "algorithm" in refused(pem_verifier, hmac_token(claims(), pem))
    assert "algorithm" in refused(jwks_verifier, hmac_token(claims(), pem, kid="rsa-1"))


def test_a_token_signed_with_another_algorithm_than_the_keys_is_refused(
    jwks_verifier: TokenVerifier, rsa_pair: KeyPair
) -> None:
    # RS512 with the right RSA key: the key verifies RS256 only
    assert "algorithm" in refused(jwks_verifier, rsa_pair.token(claims(), algorithm="RS512"))


def test_a_token_without_a_domain_is_refused(jwks_verifier: TokenVerifier, rsa_pair: KeyPair) -> None:
    assert "did" in refused(jwks_verifier, rsa_pair.token(claims(domain=None)))
    assert "did" in refused(jwks_verifier, rsa_pair.token(claims(domain="")))
    assert "did" in refused(jwks_verifier, rsa_pair.token({**claims(), "did": ["a", "b"]}))


def test_issuer_and_audience_are_checked_when_configured(tmp_path: Path, rsa_pair: KeyPair) -> None:
    ring = load_key_ring(str(write_jwks(tmp_path / "jwks.json", rsa_pair)), allow_hs256=False)
    verifier = TokenVerifier(ring, leeway_seconds=LEEWAY, issuer="spaceone.identity", audience="gateway")
    assert verifier.principal(rsa_pair.token(claims(aud="gateway"))).domain_id == DOMAIN
    assert "issuer" in refused(verifier, rsa_pair.token(claims(aud="gateway", iss="evil")))
    assert "audience" in refused(verifier, rsa_pair.token(claims(aud="other")))
    # no audience configured: SpaceONE's aud (the user) is not checked
    assert (
        TokenVerifier(ring, leeway_seconds=LEEWAY).principal(rsa_pair.token(claims(aud="x"))).domain_id
        == DOMAIN
    )


def test_garbage_is_refused(jwks_verifier: TokenVerifier) -> None:
    for token in ("", "abc", "a.b.c", "x" * 9000, "eyJhbGciOiJSUzI1NiJ9.e30."):
        refused(jwks_verifier, token)


def test_the_authorization_header_must_be_a_bearer_token(
    jwks_verifier: TokenVerifier, rsa_pair: KeyPair
) -> None:
    authenticator = Authenticator(jwks_verifier)
    token = rsa_pair.token(claims())
    assert authenticator.principal_for(f"bearer {token}").domain_id == DOMAIN
    for header in (None, "", token, f"Basic {token}", "Bearer "):
        with pytest.raises(Unauthenticated):
            authenticator.principal_for(header)
    assert Authenticator().principal_for(f"Bearer {token}") == Principal()


def test_hs256_only_when_explicitly_allowed() -> None:
    with pytest.raises(ValidationError, match="GATEWAY_JWT_ALLOW_HS256"):
        Settings(auth="jwt", jwt_keys=f"hs256:{SECRET}")
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(auth="jwt", jwt_keys="hs256:short", jwt_allow_hs256=True)
    settings = Settings(auth="jwt", jwt_keys=f"hs256:{SECRET}", jwt_allow_hs256=True)
    verifier = build_authenticator(settings).verifier
    assert verifier is not None
    token = hmac_token(claims(), SECRET.encode())
    assert verifier.principal(token).domain_id == DOMAIN
    assert "algorithm" in refused(verifier, KeyPair.rsa().token(claims()))


def test_unusable_keys_fail_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot read"):
        Settings(auth="jwt", jwt_keys=str(tmp_path / "missing.json"))
    with pytest.raises(ValidationError, match="GATEWAY_JWT_KEYS"):
        Settings(auth="jwt")
    cases = {
        "garbage.pem": b"not a key",
        "bad.json": b"{not json",
        "empty.json": json.dumps({"keys": []}).encode(),
        "oct.json": json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "a"}]}).encode(),
        "small.pem": KeyPair.rsa(bits=1024).public_pem(),
        "p384.pem": KeyPair.ec(curve=ec.SECP384R1()).public_pem(),
        "private.json": json.dumps({"keys": [{**KeyPair.ec().jwk(), "d": "AAAA"}]}).encode(),
        "nokid.json": json.dumps(
            {
                "keys": [
                    {k: v for k, v in KeyPair.ec().jwk().items() if k != "kid"},
                    KeyPair.ec("b").jwk(),
                ]
            }
        ).encode(),
        "wrongalg.json": json.dumps({"keys": [{**KeyPair.rsa().jwk(), "alg": "HS256"}]}).encode(),
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        settings = Settings(auth="jwt", jwt_keys=str(path))
        with pytest.raises(UnusableKeys):
            build_authenticator(settings)


def test_principal_domain_rules() -> None:
    assert Principal(DOMAIN).domain_for(None) == DOMAIN
    assert Principal(DOMAIN).domain_for(DOMAIN) == DOMAIN
    with pytest.raises(Forbidden):
        Principal(DOMAIN).domain_for("domain-bbbbbbbbbbbb")
    with pytest.raises(RequiredParameter):
        Principal().domain_for(None)


def test_open_mode_beyond_loopback_is_warned_about() -> None:
    assert insecure_mode_warning(Settings(host="0.0.0.0", demo=True)) is not None
    assert insecure_mode_warning(Settings(host="10.1.2.3", demo=True)) is not None
    for host in ("127.0.0.1", "localhost", "::1"):
        assert insecure_mode_warning(Settings(host=host)) is None
    assert (
        insecure_mode_warning(
            Settings(host="0.0.0.0", demo=True, auth="jwt", jwt_keys=f"hs256:{SECRET}", jwt_allow_hs256=True)
        )
        is None
    )
