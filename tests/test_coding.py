"""Manual coding: the coded-segments table and coding part of a segment."""

from __future__ import annotations

import pytest

from qda.coding import code_part, coded_segments
from qda.errors import InvalidInput


def test_coded_segments_lists_codes_per_turn(small_project):
    p = small_project
    devices = p.code_paths()["Access barriers/Devices"]
    second = p.segments("P01")[1]
    p.apply_code(second.id, devices.id, coder="anna")
    code_part(p, second.id, devices.id, "my phone", coder="lars")
    table = coded_segments(p, "P01")
    assert table.turn.tolist() == [1, 2, 3]
    assert table.codes.tolist() == [
        [],
        ["Access barriers/Devices", "Access barriers/Devices (part)"],
        [],
    ]
    assert table.time.tolist() == ["00:00:00", "00:00:04", "00:00:09"]


def test_code_part_finds_the_words(small_project):
    p = small_project
    devices = p.code_paths()["Access barriers/Devices"]
    segment = p.segments("P01")[1]  # "Only on my phone."
    coding = code_part(p, segment.id, devices.id, "my phone", coder="anna")
    assert coding.span == (8, 16) and segment.text[8:16] == "my phone"
    whole = code_part(p, segment.id, devices.id, "Only on my phone.", coder="anna")
    assert whole.span is None
    with pytest.raises(InvalidInput, match="is not in the segment"):
        code_part(p, segment.id, devices.id, "laptop", coder="anna")
