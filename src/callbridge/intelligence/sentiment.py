"""How an OverallSentimentScore becomes the VoiceCall's AgentSentimentScore / CustomerSentimentScore (-5..5).

The docs give sentiment values on -1000..1000, and decisions.md maps that linearly onto the VoiceCall's
-5..5. But the only real sender of OverallSentimentScore, Salesforce's postCallAnalysisTrigger, passes
Contact Lens' own score through unchanged, which is already on -5..5 (``"0.8"``). So, for this type only:

* a value within -5..5 is taken as it is (Contact Lens' scale, the VoiceCall's own);
* a value beyond that, up to ±1000, is on the documented scale and is divided by 200;
* anything outside -1000..1000 was refused by validation.

The cost: a client on the documented scale that sends a near-neutral score (|v| ≤ 5, i.e. ≤ 0.025 once
mapped) gets it read as -5..5. The scale used is stored with the change and shown in the timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

NATIVE_BOUND = 5.0
DOCUMENTED_BOUND = 1000.0


class Scale(StrEnum):
    native = "-5..5"
    documented = "-1000..1000"


@dataclass(frozen=True)
class CallScore:
    score: float
    scale: Scale


def call_score(value: float) -> CallScore:
    """The VoiceCall score for an OverallSentimentScore value already validated to lie in -1000..1000."""
    if -NATIVE_BOUND <= value <= NATIVE_BOUND:
        return CallScore(value, Scale.native)
    return CallScore(round(value * NATIVE_BOUND / DOCUMENTED_BOUND, 4), Scale.documented)
