"""What working calendars cost: one company's year with and without office hours, side by side.

Runs, in interleaved rounds, the built-in around-the-clock company (the baseline before its
recalibration: every resource around the clock),
the same company keeping office hours (Mon–Fri 08:00–12:00 and 12:30–16:30 for every
staff pool and the technicians, carriers collecting 09:00–15:00 on weekdays, staff ×4
and loading slots ×6 so that 40 working hours a week carry the same load) and that
company with its plant on the office calendar too (work centres work Monday to Friday,
their shifts from 06:00, machines pause at shift end; one machine more per centre and up
to 3 hours of `backlog-threshold` overtime a day carry the load of the 7-day week). Prints per
model: wall seconds of the simulation, inquiries, µs per inquiry, SimPy events processed
per inquiry, and the size of SimPy's event heap and of the clock's parked waits sampled
at 100 moments of the year (mean and maximum) — waiting for the next opening must not
put an event per waiting task on the heap.

    python benchmarks/bench_calendars.py               # one round, about 20 s
    python benchmarks/bench_calendars.py --repeat 3    # three rounds, medians
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import yaml

from ordercycle.scenarios.loader import load, parse
from ordercycle.scenarios.schema import STAFF_POOLS, Scenario
from ordercycle.sim.model import CompanyModel

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "around-the-clock.yaml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def office_hours_company() -> Scenario:
    """The around-the-clock company keeping office hours, staffed for them."""
    data = yaml.safe_load(BASELINE.read_text())
    staff = data["staff"]
    for pool in STAFF_POOLS:
        staff[pool] *= 4
    staff["technicians"] = {skill: n * 4 for skill, n in staff["technicians"].items()}
    for provider in data["logistics_providers"]:
        provider["pickups_at_once"] *= 6
    data["calendars"] = {
        "start_date": "2027-01-04",
        "patterns": {"office": {"week": {d: ["08:00-12:00", "12:30-16:30"] for d in WEEKDAYS},
                                "holidays": ["2027-04-05", "2027-05-01", "2027-12-24", "2027-12-25"]},
                     "pickups": {"week": {d: ["09:00-15:00"] for d in WEEKDAYS}}},
        "pools": {**{pool: "office" for pool in STAFF_POOLS}, "technicians": "office",
                  **{p["id"]: "pickups" for p in data["logistics_providers"]}},
    }
    return parse(data)


def plant_calendar_company() -> Scenario:
    """The office-hours company with its work centres on the office calendar, and overtime."""
    data = office_hours_company().model_dump(mode="json")
    for centre in data["work_centres"]:
        data["calendars"]["pools"][centre["id"]] = "office"
        centre["machines"] += 1
        centre["overtime_hour_cost"] = 150.0
    data["policies"]["overtime"] = {"name": "backlog-threshold",
                                    "params": {"threshold_hours": 8.0, "max_hours_per_day": 3.0}}
    return parse(data)


def run_once(scenario: Scenario, seed: int) -> dict[str, Any]:
    """Simulate to the horizon in 100 chunks, sampling the heap and the parked waits."""
    started = time.perf_counter()
    model = CompanyModel(scenario, seed=seed)
    model.start()
    heap, parked = [], []

    def sample(now: float) -> None:
        heap.append(len(model.env._queue))
        parked.append(model.env.parked)

    model.run(progress=sample)
    seconds = time.perf_counter() - started
    inquiries = len(model.orders)
    processed = next(model.env._eid) - len(model.env._queue)
    return {"seconds": seconds, "inquiries": inquiries, "us_per_inquiry": 1e6 * seconds / inquiries,
            "events_per_inquiry": processed / inquiries, "heap_mean": statistics.mean(heap),
            "heap_max": max(heap), "parked_mean": statistics.mean(parked), "parked_max": max(parked)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="interleaved rounds, medians printed")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    models = {"around the clock": load("around-the-clock"), "office hours": office_hours_company(),
              "plant on calendar": plant_calendar_company()}
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in models}
    for r in range(args.repeat):
        order = list(models) if r % 2 == 0 else list(reversed(models))
        for name in order:
            rounds[name].append(run_once(models[name], args.seed))
        clock = rounds["around the clock"][-1]["us_per_inquiry"]
        print(f"round {r + 1}: per inquiry, office hours / around the clock = "
              f"{rounds['office hours'][-1]['us_per_inquiry'] / clock:.2f}, plant on calendar / around the "
              f"clock = {rounds['plant on calendar'][-1]['us_per_inquiry'] / clock:.2f}")
    rows = ["seconds", "inquiries", "us_per_inquiry", "events_per_inquiry", "heap_mean", "heap_max",
            "parked_mean", "parked_max"]
    print(f"{'median over rounds':<22}" + "".join(f"{name:>20}" for name in models))
    for row in rows:
        print(f"{row:<22}" + "".join(f"{statistics.median(x[row] for x in rounds[name]):>20,.2f}"
                                     for name in models))
    for name in ("office hours", "plant on calendar"):
        ratios = [o["us_per_inquiry"] / a["us_per_inquiry"]
                  for o, a in zip(rounds[name], rounds["around the clock"], strict=True)]
        print(f"cost per inquiry, {name} / around the clock: median {statistics.median(ratios):.2f} "
              f"(rounds {', '.join(f'{x:.2f}' for x in ratios)})")


if __name__ == "__main__":
    main()
