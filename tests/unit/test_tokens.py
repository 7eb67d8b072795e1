from mailbot.tokens import ROLE_AIDEUR, ROLE_HELPER, ROLE_MEMBER, SCOPE_COUNTERPART, SCOPE_TICKET, Token, TokenSigner

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


def test_envelope_sender_tokens_route_nothing_but_are_found_when_asked_for() -> None:
    """A VERP token (scope b) in a To: must not hide the reply token of the thread, and is found only by the
    bounce workflow, which asks for that scope."""
    from mailbot.tokens import ROLE_MEMBER, SCOPE_BOUNCE, SCOPE_TICKET

    signer = TokenSigner([b"k"])
    verp = signer.plus_address("aide@club.fr", Token(SCOPE_BOUNCE, 7, ROLE_MEMBER))
    reply = f"<{signer.sign(Token(SCOPE_TICKET, 3, ROLE_MEMBER))}.x@club.fr>"
    assert signer.find([verp, reply], exclude=(SCOPE_BOUNCE,)) == Token(SCOPE_TICKET, 3, ROLE_MEMBER)
    assert signer.find([reply, verp], scopes=(SCOPE_BOUNCE,)) == Token(SCOPE_BOUNCE, 7, ROLE_MEMBER)
    assert signer.find([reply], scopes=(SCOPE_BOUNCE,)) is None
    forged = verp.replace("b7m", "b8m")  # another outbox row with the same MAC
    assert signer.find([forged], scopes=(SCOPE_BOUNCE,)) is None


def test_registration_token_is_bound_to_one_address():
    """The invitation's reply address proves the address it was sent to, and no other (issue 11, point 1)."""
    from mailbot.tokens import SCOPE_REGISTRATION

    signer = TokenSigner([KEY])
    token = signer.address_token("Helene@Ailleurs.test")
    assert token.scope == SCOPE_REGISTRATION and token.number != 0
    assert signer.verify(signer.sign(token)) == token and len(str(token.number)) <= 12
    assert signer.address_matches(token, "helene@ailleurs.test")
    assert not signer.address_matches(token, "alice@membres.test")
    assert not signer.address_matches(Token(SCOPE_REGISTRATION, 0, ROLE_MEMBER), "helene@ailleurs.test")
    assert not signer.address_matches(Token(SCOPE_TICKET, token.number, ROLE_MEMBER), "helene@ailleurs.test")
    # keyed: another secret gives another number; a rotated key still recognises the old invitations
    other = TokenSigner([b"another key" * 3])
    assert other.address_token("helene@ailleurs.test") != token
    assert not other.address_matches(token, "helene@ailleurs.test")
    assert TokenSigner([b"another key" * 3, KEY]).address_matches(token, "helene@ailleurs.test")
    numbers = {signer.address_token(f"user{n}@exemple.fr").number for n in range(2000)}
    assert len(numbers) == 2000


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


def test_a_counterpart_token_is_bound_to_its_role():
    """Issue 12, point 2: the helper's reply address (w…h) cannot be turned into Aideur's (w…a), which is the one
    whose free text goes on to the helper."""
    signer = TokenSigner([KEY])
    helper = signer.sign(Token(SCOPE_COUNTERPART, 3, ROLE_HELPER))
    assert signer.verify(helper) == Token(SCOPE_COUNTERPART, 3, ROLE_HELPER)
    assert signer.verify(helper.replace("w3h-", "w3a-")) is None
    assert signer.verify(helper.replace("w3h-", "w4h-")) is None
    aideur = signer.sign(Token(SCOPE_COUNTERPART, 3, ROLE_AIDEUR))
    assert signer.verify(signer.sign_thread(Token(SCOPE_COUNTERPART, 3, ROLE_AIDEUR))) is None  # a Message-ID's copy
    assert signer.verify(aideur) == Token(SCOPE_COUNTERPART, 3, ROLE_AIDEUR)
