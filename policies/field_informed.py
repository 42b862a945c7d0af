"""The field-informed forecast: a statistical forecast combined with the demand service heard.

Advance demand information (scenario field ``information.field_requirements``): after a
debriefed visit, service reports the customer's inquiries of the coming planning periods
to planning. The forecast context then carries, per product, ``reported_units`` (units
reported for the period being planned) and ``reported_history`` (units that had been
reported ahead of each past period).

:class:`FieldInformed` combines them with a statistical base method by one rule. The
reported inquiries are a known part R of the coming demand D; the rest, U = D − R, is
what the statistics must still estimate. So the base method forecasts U from the history
of the demand that had *not* been reported ahead (each past period's demand minus the
units reported ahead of it, from the first period with a report on: before it the field
was not reporting yet, and all demand was unreported), and every figure x_U of its
forecast (statistical, marketing's, production's: the base method plays the forecast
game on the unreported part) becomes

    x = R + x_U:

the reported units are counted as they are, neither inflated nor discounted. With
nothing reported (R = 0 and no reports in the history) the figures are the base
method's, exactly. If the heard inquiries are a random share of the demand (each inquiry
heard or not independently of the others, as in the simulation), the unreported demand
is independent of R and E[D | R] = R + E[U]: the rule is the conditional mean of demand
with the base method's estimate of E[U], and its error is the unreported part's alone.

Source: advance demand information in inventory planning — Hariharan & Zipkin,
"Customer-order information, leadtimes, and inventories", Management Science 41(10),
1995; Gallego & Özer, "Integrating replenishment decisions with advance demand
information", Management Science 47(10), 2001 (demand known ahead is planned as it is;
only the rest is forecast).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from ordercycle.policies.contexts import Forecast, ForecastContext
from ordercycle.policies.forecasting import (
    BaseMethod,
    ForecastPolicy,
    Prediction,
    check_base_params,
    method_class,
)


def unreported_history(history: Sequence[float], reported_history: Sequence[float]) -> tuple[float, ...]:
    """Demand not reported ahead, per period, from the first period anything was reported ahead.

    Each period's demand minus the units reported ahead of it (never below 0);
    ``reported_history`` is aligned with the end of ``history``. The periods before the
    first one with a report say nothing about the unreported demand (all of it was
    unreported because the field did not report yet) and are left out; while nothing was
    ever reported the whole history is returned unchanged.
    """
    values = [float(x) for x in history]
    offset = len(values) - len(reported_history)
    first = None
    for k, reported in enumerate(reported_history):
        if k + offset < 0 or reported <= 0:
            continue
        if first is None:
            first = k + offset
        values[k + offset] = max(0.0, values[k + offset] - float(reported))
    return tuple(values if first is None else values[first:])


class FieldInformed(ForecastPolicy):
    """A statistical forecast combined with the requirements debriefed visits reported.

    Figures: reported units + the base method's figure for the demand not reported ahead
    (module docstring), for the statistical, marketing's and production's figure alike
    (the base method plays the forecast game on the unreported part). Consensus is not a
    base: its bias correction reads the plan's own past figures, which here include the
    reported units.
    """

    name = "field-informed"
    summary = ("statistical forecast + requirements service reported ahead (advance demand information); "
               "the base method plays the forecast game")

    def __init__(
        self,
        base: Annotated[BaseMethod, Field(description="statistical method combined")] = "moving-average",
        base_params: Annotated[
            dict[str, Any] | None,
            AfterValidator(check_base_params),
            Field(description="parameters of the base method (its defaults when null)"),
        ] = None,
    ):
        self.base = base
        self.base_params = base_params

    def __hash__(self) -> int:
        params = tuple(sorted((self.base_params or {}).items()))
        return hash((type(self), self.base, params))

    def base_method(self) -> ForecastPolicy:
        """The base statistical method, built from ``base`` and ``base_params``."""
        return method_class(self.base)(**(self.base_params or {}))

    def _predict(self, history: tuple[float, ...], horizon: int) -> Prediction:
        """The base method's forecast (a bare history carries no reports)."""
        prediction = self.base_method().predict_horizon(history, horizon)
        return Prediction(prediction.units, f"{self.base}: {prediction.reason}")

    def forecast(self, context: ForecastContext) -> Forecast:
        """Reported units plus the base method's figures for the unreported demand (module docstring)."""
        reported = float(context.reported_units)
        unreported = replace(context, history_units=unreported_history(context.history_units,
                                                                       context.reported_history))
        base = self.base_method().forecast(unreported)
        statistical, marketing, planned = (
            reported + figure
            for figure in (base.statistical_units, base.marketing_units, base.planned_units))
        reason = (
            f"field reported {reported:.1f} units ahead; the demand not reported ahead: {base.reason} -> "
            f"statistical {statistical:.1f}, marketing {marketing:.1f}, planned {planned:.1f}"
        )
        return Forecast(statistical, marketing, planned, reason)
