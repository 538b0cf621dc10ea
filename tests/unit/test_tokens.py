import pytest

from nurture.domain.errors import InvalidToken
from nurture.domain.tokens import CLICK, OPEN, TokenSigner, click_token, open_token, safe_redirect_url

KEY = b"k" * 32


def test_signed_click_token_round_trips():
    signer = TokenSigner(KEY)
    token = click_token(signer, "lead-1", "https://example.jp/pricing", "msg-1", "pricing")
    assert signer.verify(token, CLICK) == {"k": "c", "l": "lead-1", "u": "https://example.jp/pricing",
                                           "m": "msg-1", "t": "pricing"}


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


@pytest.mark.parametrize("url", ["javascript:alert(1)", "//evil.example/", "ftp://example.jp/", "/relative", 42])
def test_only_absolute_web_urls_are_redirect_targets(url):
    with pytest.raises(InvalidToken):
        safe_redirect_url(url)


def test_short_keys_are_refused():
    with pytest.raises(ValueError):
        TokenSigner(b"short")
