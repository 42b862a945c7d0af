"""Advance demand information from the field: what debriefed service visits hear ahead.

A debriefed visit to a customer (step 11) hears of the inquiries that customer will send
in the coming planning periods (scenario field ``information.field_requirements``) and
service reports them to planning, which sees them in the forecast context of the period
they fall in (step 1). What is heard is drawn from the inquiries the model will in fact
generate: :class:`FieldRequirements` runs each segment's arrival draws
(:func:`~ordercycle.sim.steps.sales.inquiry_draws`, its extra lines) a second time, on a
second :class:`~ordercycle.sim.streams.Streams` of the same seed and replication, ahead
of the simulation clock. The arrivals themselves are untouched: whether and when debriefs
happen changes nothing they draw (common random numbers).

Whether an inquiry can be heard is its own fate: one uniform per inquiry of the segment,
in arrival order, from the stream ``field.<segment id>.heard``; the inquiry is heard if the
uniform is below ``share_heard`` and some debriefed visit to its customer took place in
one of the ``periods_ahead`` planning periods before the one it arrives in. An inquiry is
reported once, however many visits hear it. So more debriefs can only add reports (the
same visits and more hear a superset), and with no debrief nothing is reported.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ordercycle.sim.steps import sales
from ordercycle.sim.streams import BlockSampler, Streams

if TYPE_CHECKING:
    from ordercycle.scenarios.schema import Segment
    from ordercycle.sim.model import CompanyModel


@dataclass(slots=True)
class UpcomingInquiry:
    """One inquiry the model will generate, seen ahead."""

    time: float
    customer_id: str
    heard_fate: float
    lines: list[tuple[str, int]]
    """(product id, units) of each of its lines, first line first."""
    reported: bool = False


@dataclass(slots=True)
class _SegmentAhead:
    """The inquiries of one segment drawn ahead of the clock, from some time on."""

    draws: Iterator[tuple[float, int, int, int]]
    more_lines: Callable[[int], list[tuple[str, int]]] | None
    heard: BlockSampler
    customer_ids: list[str]
    products: list[str]
    upcoming: deque[UpcomingInquiry] = field(default_factory=deque)
    by_customer: dict[str, deque[UpcomingInquiry]] = field(default_factory=dict)
    next_inquiry: UpcomingInquiry | None = None
    exhausted: bool = False

    def draw_until(self, until: float) -> None:
        """Draw the inquiries arriving before ``until`` (in order, as the arrivals do)."""
        while not self.exhausted:
            if self.next_inquiry is None:
                drawn = next(self.draws, None)
                if drawn is None:
                    self.exhausted = True
                    return
                t, customer, index, units = drawn
                lines = [(self.products[index], units)]
                if self.more_lines is not None:
                    lines += self.more_lines(index)
                self.next_inquiry = UpcomingInquiry(t, self.customer_ids[customer], self.heard(), lines)
            if self.next_inquiry.time >= until:
                return
            inquiry, self.next_inquiry = self.next_inquiry, None
            self.upcoming.append(inquiry)
            self.by_customer.setdefault(inquiry.customer_id, deque()).append(inquiry)

    def forget_before(self, time: float) -> None:
        """Drop the inquiries arriving before ``time`` (no visit can hear them ahead any more)."""
        upcoming, by_customer = self.upcoming, self.by_customer
        while upcoming and upcoming[0].time < time:
            inquiry = upcoming.popleft()
            own = by_customer[inquiry.customer_id]
            own.popleft()  # the customer's oldest: both queues are in arrival order
            if not own:
                del by_customer[inquiry.customer_id]


class FieldRequirements:
    """The inquiries debriefed visits heard ahead, by the planning period they fall in."""

    def __init__(self, m: CompanyModel):
        spec = m.scenario.information.field_requirements
        assert spec is not None  # built only when the scenario has the field
        self.share_heard = spec.share_heard
        self.periods_ahead = spec.periods_ahead
        self.period_days = m.scenario.planning.period_days
        streams = Streams(m.streams.root_seed, m.streams.replication)  # the arrivals' seeds, drawn again
        horizon = m.scenario.horizon_days
        self._segments = {
            segment.id: self._segment_ahead(m, segment, streams, horizon) for segment in m.scenario.segments
        }
        self.ahead: dict[int, dict[str, float]] = {}
        """Planning period -> product id -> units reported for it so far."""
        self.reported_history: dict[str, list[float]] = {p.id: [] for p in m.scenario.products}
        """Product id -> units that had been reported ahead of each closed period, oldest first."""

    @staticmethod
    def _segment_ahead(m: CompanyModel, segment: Segment, streams: Streams, horizon: float) -> _SegmentAhead:
        return _SegmentAhead(
            sales.inquiry_draws(streams, segment, horizon, m.start_day, m.first_weekday),
            sales.extra_lines(m, segment, streams),
            streams.uniform(f"field.{segment.id}.heard"),
            [f"{segment.id}-{k}" for k in range(1, segment.customers + 1)],
            sorted(segment.product_mix),
        )

    def hear(self, now: float, customer_id: str, segment_id: str) -> dict[str, float]:
        """A debriefed visit to ``customer_id`` at ``now``: report what it hears.

        The visit hears the customer's inquiries of the next ``periods_ahead`` planning
        periods whose heard fate is below ``share_heard`` and that no earlier visit
        reported. Returns the units reported per product (empty: nothing new).
        """
        period = self.period_days
        first = int(now // period) + 1
        start, end = first * period, (first + self.periods_ahead) * period
        segment = self._segments[segment_id]
        segment.draw_until(end)
        segment.forget_before(start)
        heard: dict[str, float] = {}
        for inquiry in segment.by_customer.get(customer_id, ()):
            if inquiry.time >= end:
                break
            if inquiry.reported or inquiry.heard_fate >= self.share_heard:
                continue
            inquiry.reported = True
            reported = self.ahead.setdefault(int(inquiry.time // period), {})
            for product_id, units in inquiry.lines:
                reported[product_id] = reported.get(product_id, 0.0) + units
                heard[product_id] = heard.get(product_id, 0.0) + units
        return heard

    def reported_for(self, period: int, product_id: str) -> float:
        """Units of ``product_id`` reported so far for planning period ``period``."""
        return self.ahead.get(period, {}).get(product_id, 0.0)

    def close_period(self, period: int) -> None:
        """Period ``period`` ended: what had been reported ahead of it joins the history."""
        reported = self.ahead.pop(period, {})
        for product_id, history in self.reported_history.items():
            history.append(reported.get(product_id, 0.0))
