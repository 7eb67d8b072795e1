"""The identifiers a replay files a released quarantine record under, and how the mailbox reads them back."""
from __future__ import annotations

from mailbot.mailbox import _as_carried, _uid_set
from mailbot.pipeline import variant_id
from mailbot.quarantine import replayed_id


def test_a_released_record_keeps_within_the_column_and_is_searched_by_the_mail_s_own_id() -> None:
    for message_id in ("abc@x.test", "a" * 990 + "@x.test", variant_id("abc@x.test", "f" * 64)):
        released = replayed_id(message_id, 123456)
        assert len(released) <= 998 and released != message_id and released.endswith(".rejeu-123456")
    assert _as_carried(replayed_id("abc@x.test", 7)) == "abc@x.test"
    assert _as_carried(replayed_id(variant_id("abc@x.test", "f" * 64), 7)) == "abc@x.test"
    assert _as_carried("abc.rejeu-x@x.test") == "abc.rejeu-x@x.test"  # only the mark we write


def test_uid_sets_of_copyuid_answers() -> None:
    assert _uid_set("3") == {3}
    assert _uid_set("3,5:7") == {3, 5, 6, 7}
    assert _uid_set("x,2") == {2}
