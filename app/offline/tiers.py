"""The three offline tiers, their size budgets, and which one to offer a phone from its connection hints."""

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass


class Tier(enum.StrEnum):
    TEXT = "text"  # lessons and quizzes, no media
    LIGHT = "light"  # plus images ~640 px (WebP), SVG as it is
    FULL = "full"  # plus images up to 1280 px and a spoken narration of every lesson


TIERS = (Tier.TEXT, Tier.LIGHT, Tier.FULL)
BUDGET_BYTES = {Tier.TEXT: 150 * 1024, Tier.LIGHT: 1024 * 1024, Tier.FULL: 5 * 1024 * 1024}
IMAGE_WIDTH = {Tier.LIGHT: 640, Tier.FULL: 1280}

# kbit/s of each Effective Connection Type's upper bound (MDN); 4g: OSIPTEL's Peruvian average (ANCHORS.md)
ECT_KBPS = {"slow-2g": 50, "2g": 70, "3g": 700, "4g": 12_720}
_ECT_TIER = {"slow-2g": Tier.TEXT, "2g": Tier.TEXT, "3g": Tier.LIGHT, "4g": Tier.FULL}
DEFAULT_KBPS = ECT_KBPS["3g"]  # what "no hints" assumes, as it offers the light tier


@dataclass(frozen=True)
class Recommendation:
    tier: Tier
    kbps: float
    consulted: tuple[str, ...]  # the hint headers the answer depends on (its Vary)


def recommend(headers: Mapping[str, str]) -> Recommendation:
    """Save-Data (sent unasked, the woman's own choice) first, then ECT, then Downlink (Mbit/s); no hints → light."""
    consulted = ["Save-Data"]
    downlink = _downlink_kbps(headers.get("downlink"))
    if headers.get("save-data", "").strip().lower() == "on":
        return Recommendation(Tier.TEXT, downlink or ECT_KBPS["2g"], tuple(consulted))
    consulted.append("ECT")
    ect = headers.get("ect", "").strip().lower()
    consulted.append("Downlink")
    if ect in _ECT_TIER:
        return Recommendation(_ECT_TIER[ect], downlink or ECT_KBPS[ect], tuple(consulted))
    if downlink is not None:
        tier = Tier.TEXT if downlink <= ECT_KBPS["2g"] else Tier.LIGHT if downlink <= ECT_KBPS["3g"] else Tier.FULL
        return Recommendation(tier, downlink, tuple(consulted))
    return Recommendation(Tier.LIGHT, DEFAULT_KBPS, tuple(consulted))


def _downlink_kbps(value: str | None) -> float | None:
    try:
        mbps = float(value) if value is not None else math.nan
    except ValueError:
        return None
    return mbps * 1000 if math.isfinite(mbps) and mbps > 0 else None


def seconds_at(size: int, kbps: float) -> int:
    return max(1, math.ceil(size * 8 / (kbps * 1000)))
