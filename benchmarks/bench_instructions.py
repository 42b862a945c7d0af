"""Instruction counts: ordercycle against the bare-SimPy model, free of machine noise.

Wall and CPU times on a shared 2-core machine vary by ±30 % between runs, too much to
see a 5 % improvement. ``valgrind --tool=callgrind`` counts executed instructions,
which repeat exactly for the same program and input. This script runs three children
under callgrind — imports only, the ordercycle model, the bare-SimPy model of
``bench_baseline.py`` — each over the same horizon, subtracts the imports-only count,
and prints instructions per inquiry and the ratio::

    python benchmarks/bench_instructions.py            # 30 simulated days, ~2 min
    python benchmarks/bench_instructions.py --horizon 60

Instructions are not seconds (memory stalls are not counted), but a change that cuts
instructions per inquiry cuts time in proportion, and the ratio between the two
models is the figure the speed goal is about.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def child(kind: str, horizon: float, seed: int) -> None:
    """Build and run one model (or nothing) and print the number of inquiries."""
    import bench_baseline  # noqa: F401  (same imports in every child)

    from ordercycle.scenarios.loader import load, override
    from ordercycle.sim.model import CompanyModel

    scenario = override(load("baseline"), horizon_days=horizon, warmup_days=min(7.0, horizon / 2))
    if kind == "none":
        print(0)
    elif kind == "ordercycle":
        model = CompanyModel(scenario, seed)
        model.start()
        model.run()
        print(len(model.orders))
    else:
        bare = bench_baseline.BareModel(scenario, seed)
        bare.env.run(until=bare.horizon)
        print(bare.inquiries)


def count(kind: str, horizon: float, seed: int) -> tuple[int, int]:
    """(instructions, inquiries) of one child run under callgrind."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
               sys.executable, __file__, "--child", kind, "--horizon", str(horizon), "--seed", str(seed)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    match = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if match is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{done.stderr[-2000:]}")
    return int(match.group(1).replace(",", "")), int(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Count, subtract the imports, print per-inquiry figures and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizon", type=float, default=30.0, help="simulated days (default 30)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", choices=["none", "ordercycle", "bare"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.horizon, args.seed)
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian package 'valgrind')", file=sys.stderr)
        return 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(("none", "ordercycle", "bare"),
                        pool.map(lambda kind: count(kind, args.horizon, args.seed),
                                 ("none", "ordercycle", "bare")), strict=True))
    fixed = runs["none"][0]
    print(f"baseline, {args.horizon:g} simulated days, seed {args.seed}; "
          f"imports-only run: {fixed:,} instructions")
    per_inquiry = {}
    for kind in ("ordercycle", "bare"):
        instructions, inquiries = runs[kind]
        per_inquiry[kind] = (instructions - fixed) / inquiries
        print(f"{kind:<11} {instructions - fixed:>15,} instructions, {inquiries:,} inquiries, "
              f"{per_inquiry[kind]:,.0f} per inquiry")
    print(f"ratio ordercycle / bare per inquiry: {per_inquiry['ordercycle'] / per_inquiry['bare']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
