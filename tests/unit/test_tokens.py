import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from nurture.domain.errors import InvalidToken
from nurture.domain.tokens import (
    CLICK,
    OPEN,
    UNSUBSCRIBE,
    ExpiredToken,
    SigningKey,
    TokenSigner,
    UnknownSigningKey,
    click_token,
    open_token,
    rotate,
)

KEY = b"k" * 32
SENT = datetime(2026, 12, 1, 9, tzinfo=UTC)


def test_signed_click_token_round_trips():
    signer = TokenSigner(KEY)
    token = click_token(signer, "lead-1", "https://example.jp/pricing", "msg-1", "pricing")
    claims = signer.verify(token, CLICK)
    assert {name: claims[name] for name in ("k", "l", "m", "u", "t")} == {
        "k": "c", "l": "lead-1", "m": "msg-1", "u": "https://example.jp/pricing", "t": "pricing"}
    assert claims["v"] == "k0"  # the key that signed it


def test_tampered_payload_is_rejected():
    signer = TokenSigner(KEY)
    signature = click_token(signer, "lead-1", "https://example.jp/", "m").split(".")[1]
    forged = TokenSigner(KEY).sign(CLICK, {"l": "lead-1", "u": "https://evil.example/", "m": "m"}).split(".")[0]
    with pytest.raises(InvalidToken):
        signer.verify(f"{forged}.{signature}", CLICK)


def test_tampered_signature_is_rejected():
    signer = TokenSigner(KEY)
    token = open_token(signer, "lead-1", "m")
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    with pytest.raises(InvalidToken):
        signer.verify(flipped, OPEN)


def test_token_signed_with_another_key_is_rejected():
    token = open_token(TokenSigner(b"x" * 32), "lead-1", "m")
    with pytest.raises(InvalidToken):
        TokenSigner(KEY).verify(token, OPEN)


def test_token_for_one_purpose_is_refused_for_another():
    signer = TokenSigner(KEY)
    with pytest.raises(InvalidToken):
        signer.verify(open_token(signer, "lead-1", "m"), CLICK)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "###.###", "x" * 5000 + ".y"])
def test_malformed_tokens_are_rejected(garbage):
    with pytest.raises(InvalidToken):
        TokenSigner(KEY).verify(garbage, OPEN)


def test_short_keys_are_refused():
    with pytest.raises(ValueError):
        TokenSigner(b"short")


def test_open_and_click_tokens_expire_after_their_lifetime_and_unsubscribe_tokens_never():
    signer = TokenSigner(KEY, lifetime=timedelta(days=365))
    sent = int(SENT.timestamp())
    click = click_token(signer, "l", "https://example.jp/", "m", sent_at=sent)
    pixel = open_token(signer, "l", "m", sent)
    unsubscribe = signer.sign(UNSUBSCRIBE, {"l": "l", "m": "m"})
    within, after = SENT + timedelta(days=364), SENT + timedelta(days=366)
    assert signer.verify(click, CLICK, within)["u"] == "https://example.jp/" and signer.verify(pixel, OPEN, within)
    for token, kind in ((click, CLICK), (pixel, OPEN)):
        with pytest.raises(ExpiredToken) as expired:
            signer.verify(token, kind, after)
        assert expired.value.claims["l"] == "l"
    assert signer.verify(unsubscribe, UNSUBSCRIBE, SENT + timedelta(days=3650))["l"] == "l"


def test_after_rotation_the_new_key_signs_and_the_old_one_verifies_what_it_signed():
    first = [SigningKey("k0", KEY)]
    old_signer = TokenSigner(first)
    old_click = click_token(old_signer, "l", "https://example.jp/", "m", sent_at=int(SENT.timestamp()))
    old_unsubscribe = old_signer.sign(UNSUBSCRIBE, {"l": "l", "m": "m"})
    rotated = rotate(first, b"n" * 32, SENT + timedelta(days=30))
    assert [key.key_id for key in rotated] == ["k1", "k0"] and rotated[1].retired_at == SENT + timedelta(days=30)
    signer = TokenSigner(rotated)
    new_click = click_token(signer, "l", "https://example.jp/", "m")
    assert TokenSigner(rotated[1:]).verify(old_click, CLICK, SENT)  # the old key alone still reads its tokens
    with pytest.raises(UnknownSigningKey):
        old_signer.verify(new_click, CLICK)  # a reader that has not seen the new key yet fetches it again
    assert signer.verify(old_click, CLICK, SENT + timedelta(days=300))["u"] == "https://example.jp/"
    with pytest.raises(ExpiredToken):
        signer.verify(old_click, CLICK, SENT + timedelta(days=400))
    assert signer.verify(old_unsubscribe, UNSUBSCRIBE, SENT + timedelta(days=4000))["l"] == "l"
    assert [key.key_id for key in rotate(rotated, b"z" * 32, SENT + timedelta(days=60))] == ["k2", "k1", "k0"]


def test_a_token_from_before_expiry_existed_lasts_a_lifetime_past_its_keys_retirement():
    # Signed as tokens were before keys had ids and tokens an expiry: no `v`, no `e`.
    payload = base64.urlsafe_b64encode(json.dumps({"k": "o", "l": "l", "m": "m"}).encode()).rstrip(b"=").decode()
    signature = base64.urlsafe_b64encode(hmac.new(KEY, payload.encode(), hashlib.sha256).digest())
    token = f"{payload}.{signature.rstrip(b'=').decode()}"
    legacy = SigningKey("k0", KEY)
    assert TokenSigner(KEY).verify(token, OPEN, SENT + timedelta(days=3000))["l"] == "l"  # not retired: valid
    retired = rotate([legacy], b"n" * 32, SENT)
    assert TokenSigner(retired).verify(token, OPEN, SENT + timedelta(days=364))
    with pytest.raises(ExpiredToken):
        TokenSigner(retired).verify(token, OPEN, SENT + timedelta(days=366))


def test_a_keyring_value_round_trips_and_a_plain_key_is_the_first_key():
    from nurture.adapters.token_keys import keyring, keyring_value

    rotated = rotate([SigningKey("k0", KEY)], b"n" * 32, SENT)
    assert keyring(keyring_value(rotated)) == [SigningKey("k1", b"n" * 32, SENT), SigningKey("k0", KEY, None, SENT)]
    assert keyring(base64.b64encode(KEY).decode()) == [SigningKey("k0", KEY)]
    assert keyring("x" * 63) == [SigningKey("k0", b"x" * 63)]  # not base64: the string itself is the key


def test_a_retired_key_cannot_mint_links_that_outlive_its_retirement():
    # Someone who kept a retired key signs a click link claiming to expire in ten years
    retired = rotate([SigningKey("k0", KEY)], b"n" * 32, SENT)
    forged = TokenSigner(retired[1:], lifetime=timedelta(days=3650)).sign(CLICK, {"l": "l", "u": "https://x.jp/",
                                                                                  "m": "m"}, SENT)
    signer = TokenSigner(retired)  # the keyring's own lifetime: a year
    assert signer.verify(forged, CLICK, SENT + timedelta(days=300))
    with pytest.raises(ExpiredToken):
        signer.verify(forged, CLICK, SENT + timedelta(days=366))


def test_only_a_key_newer_than_the_keyrings_is_worth_reading_the_keyring_again_for():
    signer = TokenSigner(rotate([SigningKey("k0", KEY)], b"n" * 32, SENT))
    assert signer.newer_than_known("k2") and not signer.newer_than_known("k1")
    assert not signer.newer_than_known("zz") and not signer.newer_than_known("k") and not signer.newer_than_known("k0")
