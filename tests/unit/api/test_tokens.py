"""The API's bearer tokens (api/tokens.py): what a Supabase-compatible JWT must be, and every attack refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from autoinvest.api.tokens import Principal, TokenVerifier
from autoinvest.errors import ConfigError, Unauthenticated

SECRET = "project-jwt-secret-" + "x" * 32
ISSUER = "https://project.supabase.co/auth/v1"
EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
JWKS = {"keys": [{**ECAlgorithm.to_jwk(EC_KEY.public_key(), as_dict=True), "kid": "ec-1", "alg": "ES256"},
                 {**RSAAlgorithm.to_jwk(RSA_KEY.public_key(), as_dict=True), "kid": "rsa-1"}]}
USER = uuid.uuid4()


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {"sub": str(USER), "aud": "authenticated", "role": "authenticated", "iss": ISSUER,
                            "iat": now, "exp": now + 300}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def hs(payload: dict[str, Any], secret: str = SECRET, **headers: Any) -> str:
    return jwt.encode(payload, secret, algorithm="HS256", headers=headers or None)


def hmac_signed(payload: dict[str, Any], secret: str, header: dict[str, Any]) -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = part(json.dumps(header).encode()) + "." + part(json.dumps(payload).encode())
    return signing_input + "." + part(hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest())


VERIFIER = TokenVerifier(hs256_secret=SECRET, jwks=JWKS, issuer=ISSUER)


def refused(token: str, verifier: TokenVerifier = VERIFIER) -> str:
    with pytest.raises(Unauthenticated) as caught:
        verifier.verify(token)
    assert (not token or token not in str(caught.value)) and SECRET not in str(caught.value)
    return caught.value.reason


def test_a_users_tokens_pass_with_each_configured_key() -> None:
    assert VERIFIER.verify(hs(claims())) == Principal(USER, operator=False)
    assert VERIFIER.verify(jwt.encode(claims(), EC_KEY, algorithm="ES256", headers={"kid": "ec-1"})).user_id == USER
    assert VERIFIER.verify(jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})).user_id == USER


def test_the_operator_flag_comes_from_app_metadata_only() -> None:
    assert VERIFIER.verify(hs(claims(app_metadata={"autoinvest_operator": True}))).operator
    assert not VERIFIER.verify(hs(claims(user_metadata={"autoinvest_operator": True}))).operator
    assert not VERIFIER.verify(hs(claims(app_metadata={"autoinvest_operator": "true"}))).operator


def test_alg_none_is_refused() -> None:
    unsigned = jwt.encode(claims(), None, algorithm="none")
    assert refused(unsigned) == "TOKEN_INVALID"
    assert refused(jwt.encode(claims(), None, algorithm="none", headers={"kid": "ec-1"})) == "TOKEN_INVALID"


def test_the_public_key_used_as_an_hmac_secret_is_refused() -> None:
    public_pem = EC_KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    # PyJWT itself refuses to sign so: the attacker's token is made by hand.
    confused = hmac_signed(claims(), public_pem, {"alg": "HS256", "typ": "JWT", "kid": "ec-1"})
    assert refused(confused) == "TOKEN_INVALID"  # the EC key is ES256 whatever the header says
    assert refused(hmac_signed(claims(), public_pem, {"alg": "HS256", "typ": "JWT"})) == "TOKEN_INVALID"
    only_keys = TokenVerifier(jwks=JWKS, issuer=ISSUER)
    assert refused(hs(claims()), only_keys) == "TOKEN_INVALID"  # HS256 is not configured there


def test_expired_and_timeless_tokens_are_refused() -> None:
    now = int(time.time())
    assert refused(hs(claims(iat=now - 600, exp=now - 60))) == "TOKEN_EXPIRED"
    assert refused(hs(claims(exp=None))) == "TOKEN_EXPIRED"
    assert refused(hs(claims(iat=None))) == "TOKEN_EXPIRED"


def test_another_audience_or_issuer_is_refused() -> None:
    assert refused(hs(claims(aud="other"))) == "TOKEN_AUDIENCE_REFUSED"
    assert refused(hs(claims(aud=None))) == "TOKEN_AUDIENCE_REFUSED"
    assert refused(hs(claims(iss="https://other.supabase.co/auth/v1"))) == "TOKEN_AUDIENCE_REFUSED"
    assert refused(hs(claims(iss=None))) == "TOKEN_AUDIENCE_REFUSED"


def test_tokens_that_are_no_users_are_refused() -> None:
    assert refused(hs(claims(sub=None))) == "TOKEN_SUBJECT_INVALID"
    assert refused(hs(claims(sub="not-a-uuid"))) == "TOKEN_SUBJECT_INVALID"
    assert refused(hs(claims(role="anon"))) == "TOKEN_ROLE_REFUSED"
    assert refused(hs(claims(role="service_role"))) == "TOKEN_ROLE_REFUSED"
    assert refused(hs(claims(role=None))) == "TOKEN_ROLE_REFUSED"


def test_bad_signatures_unknown_keys_and_garbage_are_refused() -> None:
    assert refused(hs(claims(), secret="another-secret-" + "y" * 32)) == "TOKEN_INVALID"
    other = ec.generate_private_key(ec.SECP256R1())
    assert refused(jwt.encode(claims(), other, algorithm="ES256", headers={"kid": "ec-1"})) == "TOKEN_INVALID"
    assert refused(jwt.encode(claims(), other, algorithm="ES256", headers={"kid": "nobody"})) == "TOKEN_INVALID"
    assert refused("not.a.jwt") == "TOKEN_INVALID"
    assert refused("") == "TOKEN_INVALID"


def test_a_verifier_without_keys_or_with_an_unfit_key_does_not_start() -> None:
    with pytest.raises(ConfigError):
        TokenVerifier()
    with pytest.raises(ConfigError):
        TokenVerifier(jwks={"keys": [{**JWKS["keys"][0], "alg": "HS256"}]})
    with pytest.raises(ConfigError):
        TokenVerifier(jwks={"keys": [{k: v for k, v in JWKS["keys"][1].items() if k != "kid"}]})
