"""A participant's link quality: each sample gets a verdict from the office's thresholds, and the
state moves only when the same verdict comes ``samples_to_change`` times in a row (hysteresis), so a
single bad second does not flap the page down the ladder and back. Being cut off is different: a
drop is reported by an event and applies at once."""

from __future__ import annotations

from .models import OfficeConfig, Participant, Quality

# What a page in the call does in each state: the fallback ladder's rung (services._advice).
ADVICE = {
    Quality.GOOD: "full",
    Quality.DEGRADED: "low_video",
    Quality.POOR: "audio_only",
    Quality.DISCONNECTED: "follow_along",
}


# Jitsi's own word on the media path, sent by the page where the build has no getConnectionStats too:
# a failed peer connection ("peerConnectionFailure") or a closed bridge channel ("dataChannelClosed").
MEDIA = {"failed": Quality.POOR, "interrupted": Quality.DEGRADED}


def verdict(config: OfficeConfig, *, rtt_ms=None, loss_pct=None, quality=None, media=None) -> Quality:
    """The worst thing any measure says; a measure the browser could not take says nothing."""
    worst = MEDIA.get(media, Quality.GOOD)
    if worst == Quality.POOR:
        return worst
    checks = (
        (rtt_ms, config.rtt_degraded_ms, config.rtt_poor_ms, False),
        (loss_pct, config.loss_degraded_pct, config.loss_poor_pct, False),
        (quality, config.quality_degraded, config.quality_poor, True),
    )
    for value, degraded, poor, lower_is_worse in checks:
        if value is None:
            continue
        if (value <= poor) if lower_is_worse else (value >= poor):
            return Quality.POOR
        if (value <= degraded) if lower_is_worse else (value >= degraded):
            worst = Quality.DEGRADED
    return worst


def observe(participant: Participant, seen: Quality, samples_to_change: int) -> bool:
    """Feed one verdict; returns True when the state changed."""
    if seen == participant.state:
        participant.candidate, participant.candidate_count = None, 0
        return False
    if seen == participant.candidate:
        participant.candidate_count += 1
    else:
        participant.candidate, participant.candidate_count = seen, 1
    if participant.candidate_count < samples_to_change:
        return False
    set_state(participant, seen)
    return True


def set_state(participant: Participant, state: Quality, *, counts_as_worst: bool = True) -> None:
    """``counts_as_worst`` is False for a plain goodbye: leaving is not a bad link."""
    participant.state = state
    participant.candidate, participant.candidate_count = None, 0
    if counts_as_worst and state.rank > participant.worst.rank:
        participant.worst = state
