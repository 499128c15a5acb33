"""The one time formatter: floored seconds, hours from an hour, unknown as a dash."""

import math

import pytest

from voice_interview.timefmt import mmss


@pytest.mark.parametrize("seconds, text", [
    (0.0, "0:00"),
    (59.99, "0:59"),       # floored: a clock reads 0:59 until the minute is whole
    (60.0, "1:00"),
    (119.6, "1:59"),       # never reads as past a whole-second threshold it is under
    (754.2, "12:34"),
    (3599.9, "59:59"),
    (3600.0, "1:00:00"),
    (3725.0, "1:02:05"),
    (-3.0, "0:00"),
    (None, "–"),
    (math.nan, "–"),
])
def test_mmss(seconds, text):
    assert mmss(seconds) == text
