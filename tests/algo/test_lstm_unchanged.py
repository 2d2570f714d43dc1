"""The LSTM path is bit-for-bit what it was before the memory interface (GRU) existed: short seeded trainings
end at exactly the recorded parameters (see tests/helpers/lstm_reference.py)."""

from __future__ import annotations

import json

import pytest

from tests.helpers.lstm_reference import CASES, FIXTURE, digests, platform, train_case

RECORDED = json.loads(FIXTURE.read_text())


@pytest.mark.parametrize("case", list(CASES))
def test_lstm_training_is_bit_for_bit_unchanged(case: str) -> None:
    if RECORDED["platform"] != platform():
        pytest.skip(
            f"recorded on {RECORDED['platform']}, bit-for-bit equality is not defined on {platform()}"
        )
    got, recorded = digests(train_case(case)), RECORDED["cases"][case]
    assert got.keys() == recorded.keys()
    different = sorted(name for name in recorded if got[name] != recorded[name])
    assert not different, f"{case}: parameters differ from the recorded LSTM training: {different}"
