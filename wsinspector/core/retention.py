"""How long stored sessions are kept: by age, by the space they take, or both; which sessions that lets go of."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

#: the store's setting that holds the retention, as JSON
SETTING = "retention"
DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class Retention:
    """Stored sessions older than ``max_age_days`` go, and then the oldest until all together take at most
    ``max_bytes``; 0 is no limit. A session still being recorded always stays, and so does the newest one
    whatever its size (a session bigger than the limit stays until a newer one comes)."""

    max_age_days: float = 0.0
    max_bytes: int = 0

    @property
    def keeps_everything(self) -> bool:
        return self.max_age_days <= 0 and self.max_bytes <= 0

    def to_json(self) -> str:
        return json.dumps({"max_age_days": self.max_age_days, "max_bytes": self.max_bytes})

    @classmethod
    def from_json(cls, text: str | None) -> Retention:
        """The retention a setting holds; a damaged or missing one keeps everything (nothing is deleted)."""
        try:
            data = json.loads(text or "{}")
            age, size = data.get("max_age_days", 0), data.get("max_bytes", 0)
        except (ValueError, AttributeError):
            return cls()
        if not isinstance(age, int | float) or not isinstance(size, int) or isinstance(age, bool) \
                or isinstance(size, bool):
            return cls()
        return cls(max(0.0, float(age)), max(0, size))

    def describe(self) -> str:
        """For the user: "keep 30 days and 1.0 GiB", "keep everything"."""
        from wsinspector.core.payloads import human_size  # noqa: PLC0415

        parts = []
        if self.max_age_days > 0:
            parts.append(f"{self.max_age_days:g} day{'s' if self.max_age_days != 1 else ''}")
        if self.max_bytes > 0:
            parts.append(human_size(self.max_bytes))
        return "keep " + " and ".join(parts) if parts else "keep everything"

    def expired(self, sessions: Iterable[tuple[int, float, bool, int]], now_wall: float) -> list[int]:
        """The ids to delete among ``sessions``: (id, when it ended or else started, still recording, bytes
        stored), oldest first."""
        if self.keeps_everything:
            return []
        ordered = sorted(sessions, key=lambda s: (s[1], s[0]))
        out: list[int] = []
        kept = 0
        full = False
        for session_id, when, live, size in reversed(ordered):  # the newest are kept first
            too_old = self.max_age_days > 0 and now_wall - when > self.max_age_days * DAY_S
            full = full or (self.max_bytes > 0 and kept + size > self.max_bytes and session_id != ordered[-1][0])
            if not live and (too_old or full):
                out.append(session_id)
            else:
                kept += size
        return out[::-1]
