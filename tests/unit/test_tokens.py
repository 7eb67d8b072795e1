from mailbot.tokens import ROLE_AIDEUR, ROLE_MEMBER, SCOPE_TICKET, Token, TokenSigner

KEY = b"k" * 32


def test_sign_and_verify_round_trip():
    signer = TokenSigner([KEY])
    token = Token(SCOPE_TICKET, 42, ROLE_MEMBER)
    text = signer.sign(token)
    assert text.startswith("t42m-") and text == text.lower()
    assert signer.verify(text) == token
    assert signer.verify(text.upper()) == token  # providers that fold the local part


def test_tampering_is_refused():
    signer = TokenSigner([KEY])
    text = signer.sign(Token(SCOPE_TICKET, 42, ROLE_MEMBER))
    mac = text.split("-")[1]
    assert signer.verify(f"t43m-{mac}") is None  # another ticket
    assert signer.verify(f"t42a-{mac}") is None  # promote oneself to Aideur
    assert signer.verify(text[:-1] + ("0" if text[-1] != "0" else "1")) is None
    assert signer.verify("t42m-") is None


def test_other_key_is_refused_and_rotation_keeps_old_tokens():
    old, new = TokenSigner([b"old-key-" * 4]), TokenSigner([b"new-key-" * 4])
    text = old.sign(Token(SCOPE_TICKET, 7, ROLE_AIDEUR))
    assert new.verify(text) is None
    rotated = TokenSigner([b"new-key-" * 4, b"old-key-" * 4])
    assert rotated.verify(text) == Token(SCOPE_TICKET, 7, ROLE_AIDEUR)
    assert rotated.sign(Token(SCOPE_TICKET, 7, ROLE_AIDEUR)) == new.sign(Token(SCOPE_TICKET, 7, ROLE_AIDEUR))


def test_find_in_addresses_and_message_ids():
    signer = TokenSigner([KEY])
    text = signer.sign(Token(SCOPE_TICKET, 5, ROLE_MEMBER))
    assert signer.plus_address("aide@club.test", Token(SCOPE_TICKET, 5, ROLE_MEMBER)) == f"aide+{text}@club.test"
    found = signer.find(["someone@else.test", f"<{text}.abcdef@club.test>"])
    assert found == Token(SCOPE_TICKET, 5, ROLE_MEMBER)
    assert signer.find(["aide+t5m-0000000000000000000@club.test"]) is None


def test_a_message_id_token_names_the_thread_but_is_no_reply_address():
    """Whoever sees a notification's Message-ID (a Cc of Aideur's reply, a forward) must not be able to write to
    its reply address: the Message-ID's MAC is another one, accepted only where thread headers are read."""
    signer = TokenSigner([KEY])
    token = Token(SCOPE_TICKET, 5, ROLE_AIDEUR)
    thread = signer.sign_thread(token)
    assert thread.startswith("t5a-") and thread != signer.sign(token)
    assert signer.verify(thread) is None
    assert signer.find([f"aide+{thread}@club.test"]) is None
    assert signer.verify(thread, thread=True) == token
    assert signer.find([f"<{thread}.abcdef@club.test>"], thread=True) == token
    # Message-IDs sent before thread tokens existed carry the address token: still read as thread context.
    assert signer.find([f"<{signer.sign(token)}.abcdef@club.test>"], thread=True) == token
