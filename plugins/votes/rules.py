"""The party's rules for a vote, as numbers: the default rule of each kind of vote (README, "Votes
plugin", gives their sources), whether a count passes, the fewest votes in favour that pass, and the
sentence the minutes print. Pure functions: no database, no request."""

from __future__ import annotations

from dataclasses import dataclass

from .models import Base, Form, Subject


@dataclass(frozen=True)
class Threshold:
    form: Form
    base: Base
    numerator: int
    denominator: int
    strict: bool  # "more than" numerator/denominator of the base; else "at least"

    def passes(self, in_favour: int, base: int) -> bool:
        """Whole numbers only: 7 of 10 is not "more than two-thirds" through a rounded 66.7 %."""
        if base <= 0:
            return False
        if self.strict:
            return in_favour * self.denominator > self.numerator * base
        return in_favour * self.denominator >= self.numerator * base

    def needed(self, base: int) -> int:
        """The fewest votes in favour that pass with this base (at least one)."""
        exact, remainder = divmod(self.numerator * base, self.denominator)
        return max(1, exact + 1 if self.strict or remainder else exact)


HALF = (1, 2, True)  # more than half
TWO_THIRDS = (2, 3, False)  # at least two-thirds

DEFAULTS: dict[Subject, Threshold] = {
    Subject.RESOLUTION: Threshold(Form.OPEN, Base.OFFICIAL, *HALF),
    Subject.MOTION: Threshold(Form.EITHER, Base.OFFICIAL, *HALF),
    Subject.ADMISSION: Threshold(Form.EITHER, Base.OFFICIAL, *TWO_THIRDS),
    Subject.OFFICIAL_MEMBERSHIP: Threshold(Form.EITHER, Base.OFFICIAL, *TWO_THIRDS),
    Subject.COMMENDATION: Threshold(Form.EITHER, Base.OFFICIAL, *HALF),
    Subject.DISCIPLINE: Threshold(Form.SECRET, Base.OFFICIAL, *TWO_THIRDS),
}

# What the minutes call the base, and what "passed" is said of (Vietnamese: party documents).
BASE_LABELS_VI = {Base.OFFICIAL: "đảng viên chính thức", Base.PRESENT: "đảng viên chính thức có mặt"}
SUBJECTS_VI = {
    Subject.RESOLUTION: "Nghị quyết",
    Subject.MOTION: "Nội dung biểu quyết",
    Subject.ADMISSION: "Đề nghị kết nạp đảng viên",
    Subject.OFFICIAL_MEMBERSHIP: "Đề nghị công nhận đảng viên chính thức",
    Subject.COMMENDATION: "Đề nghị khen thưởng",
    Subject.DISCIPLINE: "Đề nghị thi hành kỷ luật",
}


def percent_vi(part: int, whole: int) -> str:
    """One decimal, with the comma: "81,8 %"."""
    value = round(part * 1000 / whole) / 10 if whole else 0.0
    return f"{value:.1f}".replace(".", ",") + " %"


def sentence(subject: Subject, passed: bool, in_favour: int, base: Base, base_count: int) -> str:
    """E.g. "Nghị quyết được thông qua với 9/11 đảng viên chính thức tán thành, đạt 81,8 %"."""
    verdict = "được thông qua" if passed else "không được thông qua"
    return (
        f"{SUBJECTS_VI[subject]} {verdict} với {in_favour}/{base_count} {BASE_LABELS_VI[base]} tán thành, "
        f"đạt {percent_vi(in_favour, base_count)}"
    )
