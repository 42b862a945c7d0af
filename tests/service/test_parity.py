"""Parity: the decisions the simulation took, asked again over HTTP, come back exactly equal.

A short baseline runs with non-default policies and ``trace_decisions=True``; every
recorded (kind, context, decision) is posted to the service deploying the same
policies, in reverse order (the service keeps no state between requests: whatever a
policy needs to remember — demand history, past forecasts, expedites granted this
period, the previous plan — travels in the context). The simulation's queues order
jobs by the priority policy's key rather than by calling ``rank``; the ranking
contexts are therefore reconstructed from the queues while the model runs (the
waiting jobs' order views, at each machine's request) and the service's ranking must
equal the order in which the queue would serve them. Kinds with many decisions are
sampled evenly (every k-th) to keep the test quick.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import httpx
import pytest
from service_helpers import AUTH, TOKEN, bundle_of

from ordercycle.policies.contexts import RankingContext
from ordercycle.policies.service.app import ServiceSettings, create_app
from ordercycle.policies.service.schemas import route_schemas
from ordercycle.scenarios.loader import override
from ordercycle.scenarios.schema import Scenario
from ordercycle.sim import resources
from ordercycle.sim.model import CompanyModel

POLICY_SETS = {
    "informed, cpsat": {
        "forecast": {"name": "consensus", "params": {}},
        "capacity": {"name": "load-based", "params": {"backlog_share": 0.8}},
        "pricing": {"name": "capable-to-promise", "params": {"safety_days": 2.0}},
        "selection": {"name": "capacity-aware", "params": {}},
        "priority": {"name": "atc", "params": {"lookahead_hours": 24.0}},
        "dispatch": {"name": "setup-aware", "params": {}},
        "schedule": {"name": "cpsat", "params": {}},
        "expedite": {"name": "top-tier", "params": {"min_importance": 1.0, "max_per_period": 3}},
        "billing": {"name": "consult-shipping-sales", "params": {}},
        "returns": {"name": "ad-hoc", "params": {"between_other_work": True}},
        "debrief": {"name": "routine", "params": {}},
        "inventory": {"name": "min-max", "params": {"reorder_cover_days": 2, "order_up_to_cover_days": 5,
                                                    "review_days": 2}},
    },
    "strategic, edd": {
        "forecast": {"name": "holt", "params": {}},
        "pricing": {"name": "tier-discount", "params": {}},
        "selection": {"name": "strategic", "params": {}},
        "priority": {"name": "importance-capacity", "params": {"importance_weight_days": 2.0}},
        "expedite": {"name": "bounded", "params": {"max_per_period": 2}},
        "returns": {"name": "within-window", "params": {"grace_days": 1.0}},
        "inventory": {"name": "reorder-point", "params": {"reorder_points": {"valve": 120, "filter": 80},
                                                          "quantities": {"valve": 200, "filter": 150},
                                                          "shortage": "lost-sales"}},
    },
    "overtime, calendared centres": {
        "capacity": {"name": "load-based", "params": {"backlog_share": 0.2}},
        "dispatch": {"name": "setup-aware", "params": {}},
        "overtime": {"name": "backlog-threshold", "params": {"threshold_hours": 4.0, "max_hours_per_day": 3.0,
                                                             "step_hours": 0.25}},
    },
    "staff overtime": {
        "staff_overtime": {"name": "queue-threshold", "params": {"threshold_per_person": 0.5,
                                                                 "max_hours_per_day": 2.0, "step_hours": 0.25}},
    },
    "partial shipments, multi-line": {
        "fulfilment": {"name": "ship-partial", "params": {}},
        "inventory": {"name": "base-stock", "params": {"cover_days": 3}},
        "billing": {"name": "standalone", "params": {}},
    },
    "complete shipments, multi-line": {
        "fulfilment": {"name": "ship-complete", "params": {"ship_stock_at_release": False}},
    },
    "by customer, multi-line": {
        "fulfilment": {"name": "by-customer", "params": {}},
        "inventory": {"name": "base-stock", "params": {"cover_days": 3}},
    },
    "field-informed forecast, debriefs": {
        "forecast": {"name": "field-informed", "params": {"base": "ses"}},
        "debrief": {"name": "routine", "params": {}},
    },
}
CENTRE_CALENDARS = {"overtime, calendared centres"}
"""Policy sets run with every work centre on a Monday-to-Friday calendar (overtime needs one)."""
STAFF_OVERTIME = {"staff overtime"}
"""Policy sets run with the office and warehouse pools able to work overtime (a short-staffed desk)."""
LINES_PER_ORDER = {"partial shipments, multi-line": {"dist": "uniform", "low": 0.0, "high": 3.0},
                   "complete shipments, multi-line": {"dist": "fixed", "value": 2},
                   "by customer, multi-line": {"dist": "uniform", "low": 0.0, "high": 3.0}}
"""Policy sets run on companies whose orders have several lines (lines_per_order of every segment)."""
NO_PARTIAL_DELIVERIES = {"by customer, multi-line": {"strategic", "occasional"}}
"""Policy sets run on companies some of whose segments do not accept partial deliveries."""
FIELD_REPORTS = {"field-informed forecast, debriefs": {"share_heard": 0.8, "periods_ahead": 2}}
"""Policy sets run on companies whose debriefed visits report requirements to planning."""
MAX_RANKINGS = 150
MAX_PER_KIND = 150
"""At most this many traced decisions of one kind are replayed (evenly spread over the run)."""


class RecordingRankings:
    """Rebuilds, at each machine's request, the ranking context of a queue's waiting jobs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.views: dict[int, Any] = {}
        self.rankings: list[tuple[RankingContext, tuple[int, ...]]] = []
        self._last_view: Any = None
        order_view, job_view, do_get = resources.OrderView, resources.JobView, resources.JobStore._do_get

        def record_order_view(*args: Any, **kwargs: Any) -> Any:
            self._last_view = order_view(*args, **kwargs)
            return self._last_view

        def record_job_view(*args: Any, **kwargs: Any) -> Any:
            view = job_view(*args, **kwargs)
            self.views[view.job_id] = self._last_view
            return view

        def record_ranking(store: resources.JobStore, event: Any) -> Any:
            jobs = store.waiting_jobs() if len(self.rankings) < MAX_RANKINGS and store.waiting > 1 else []
            if len(jobs) > 1 and not store.planned_jobs():
                views = [self.views[job.job_id] for job in jobs]
                context = RankingContext(store._env.now, tuple(reversed(views)))
                self.rankings.append((context, tuple(view.order_id for view in views)))
            return do_get(store, event)

        monkeypatch.setattr(resources, "OrderView", record_order_view)
        monkeypatch.setattr(resources, "JobView", record_job_view)
        monkeypatch.setattr(resources.JobStore, "_do_get", record_ranking)


def on_centre_calendars(scenario: Scenario) -> Scenario:
    """``scenario`` with every work centre working Monday to Friday (a holiday on day 2)."""
    data = scenario.model_dump(mode="json")
    data["calendars"] = {"start_date": "2027-01-04",
                         "patterns": {"plant": {"week": {d: ["06:00-14:00"] for d in ("mon", "tue", "wed",
                                                                                          "thu", "fri")},
                                                "holidays": ["2027-01-06"]}},
                         "pools": {c["id"]: "plant" for c in data["work_centres"]}}
    for centre in data["work_centres"]:
        centre["overtime_hour_cost"] = 90.0
    return Scenario.model_validate(data)


def traced_run(scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> tuple[CompanyModel, RecordingRankings]:
    rankings = RecordingRankings(monkeypatch)
    model = CompanyModel(scenario, seed=3, replication=0, trace_decisions=True)
    model.start()
    model.run()
    monkeypatch.undo()
    return model, rankings


def sampled(trace: list[tuple[str, Any, Any]]) -> list[tuple[str, Any, Any]]:
    """Every decision of the rarer kinds, every k-th of the frequent ones."""
    counts: dict[str, int] = {}
    for kind, _, _ in trace:
        counts[kind] = counts.get(kind, 0) + 1
    seen: dict[str, int] = {}
    kept = []
    for kind, context, decision in trace:
        stride = math.ceil(counts[kind] / MAX_PER_KIND)
        if seen.get(kind, 0) % stride == 0:
            kept.append((kind, context, decision))
        seen[kind] = seen.get(kind, 0) + 1
    return kept


async def post_all(app: Any, requests: list[tuple[str, Any]]) -> list[httpx.Response]:
    """POST each (path, JSON body) in turn to ``app`` in-process, lifespan running."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            return [await client.post(path, json=body, headers=AUTH) for path, body in requests]


@pytest.mark.parametrize("label", list(POLICY_SETS))
def test_service_decides_exactly_as_the_simulation(label, baseline, tmp_path, monkeypatch):
    segments = None
    if label in LINES_PER_ORDER:
        refuse = NO_PARTIAL_DELIVERIES.get(label, set())
        segments = [{**s, "lines_per_order": LINES_PER_ORDER[label],
                     "accepts_partial_deliveries": s["id"] not in refuse}
                    for s in baseline.model_dump(mode="python")["segments"]]
    scenario = override(baseline, horizon_days=30, warmup_days=0, policies=POLICY_SETS[label],
                        segments=segments)
    if label in CENTRE_CALENDARS:
        scenario = on_centre_calendars(scenario)
    if label in STAFF_OVERTIME:
        data = scenario.model_dump(mode="json")
        data["staff"]["entry_clerks"] = 2
        data["staff"]["overtime_hour_cost"] = {"entry_clerks": 27.0, "warehouse_staff": 24.0,
                                               "billing_clerks": 28.0}
        scenario = Scenario.model_validate(data)
    if label in FIELD_REPORTS:
        scenario = override(scenario, information={**scenario.information.model_dump(),
                                                   "field_requirements": FIELD_REPORTS[label]})
    model, rankings = traced_run(scenario, monkeypatch)
    kinds = {kind for kind, _, _ in model.trace}
    required = {"forecast", "pricing", "selection", "billing", "capacity", "dispatch", "inventory"}
    # a 30-day baseline may need no expedite at all; the sets that choose an expedite rule must use it
    required |= {"expedite"} & set(POLICY_SETS[label])
    assert required <= kinds, required - kinds
    if label in CENTRE_CALENDARS:
        granted = [d for kind, _, d in model.trace if kind == "overtime" and d.hours > 0]
        refused = [d for kind, _, d in model.trace if kind == "overtime" and d.hours == 0]
        assert granted and refused, "the overtime decisions replayed include grants and refusals"
    if label in STAFF_OVERTIME:
        granted = [d for kind, _, d in model.trace if kind == "staff_overtime" and d.hours > 0]
        refused = [d for kind, _, d in model.trace if kind == "staff_overtime" and d.hours == 0]
        assert granted and refused, "the staff overtime decisions replayed include grants and refusals"
    if label in LINES_PER_ORDER:  # the service replays the fulfilment decisions too
        assert sum(kind == "fulfilment" for kind, _, _ in model.trace) >= 20
    if label in NO_PARTIAL_DELIVERIES:  # of customers who take partial deliveries and of those who do not
        flags = {c.accepts_partial_deliveries for kind, c, _ in sampled(model.trace) if kind == "fulfilment"}
        assert flags == {True, False}
    if label in FIELD_REPORTS:  # the service is asked with the field's reports in the context
        reported = [c.reported_units for kind, c, _ in model.trace if kind == "forecast"]
        assert max(reported) > 0 and any(any(c.reported_history) for kind, c, _ in model.trace
                                          if kind == "forecast")
    assert len(rankings.rankings) >= 20

    schemas = route_schemas()
    replayed = list(reversed(sampled(model.trace)))
    requests = [(schemas[kind].path, schemas[kind].context_dict(context)) for kind, context, _ in replayed]
    ranking = schemas["priority"]
    requests += [(ranking.path, ranking.context_dict(context)) for context, _ in rankings.rankings]
    app = create_app(bundle_of(scenario), ServiceSettings(db_path=str(tmp_path / "log.sqlite"), token=TOKEN))
    responses = asyncio.run(post_all(app, requests))

    refused = [r.text for r in responses if r.status_code != 200][:3]
    assert [r.status_code for r in responses] == [200] * len(requests), refused
    mismatches: list[str] = []
    for (kind, _, decision), response in zip(replayed, responses, strict=False):
        answer, expected = response.json(), schemas[kind].decision_dict(decision)
        if answer != expected or schemas[kind].decision_from_json(answer) != decision:
            mismatches.append(f"{kind}: simulation {expected} != service {answer}")
    for (context, served_order), response in zip(rankings.rankings, responses[len(replayed):], strict=True):
        if tuple(response.json()["order_ids"]) != served_order:
            mismatches.append(f"priority at {context.now}: queue {served_order} != {response.json()}")
    assert not mismatches, "\n".join(mismatches[:5])
    decision_ids = [int(r.headers["X-Decision-Id"]) for r in responses]
    assert decision_ids == list(range(1, len(requests) + 1))
