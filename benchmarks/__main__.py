"""``python -m benchmarks [--quick] [--json PATH] [--only SCENARIO ...] [--profile SCENARIO]``.

See the package's docstring.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ._profile import PROFILES, profile
from ._report import Row, markdown, to_json, write_json
from ._responder import Responder
from ._scenarios import SCENARIOS, Context, headers_sent

DEFAULT_JSON = Path(__file__).parent / "results" / "latest.json"
QUICK_REPETITIONS = 5
FULL_REPETITIONS = 7


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure authing-mfa against raw httpx, aiohttp and requests code.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"fewer calls per repetition ({QUICK_REPETITIONS} repetitions): under a minute",
    )
    parser.add_argument(
        "--json", type=Path, default=DEFAULT_JSON, help=f"where to write results ({DEFAULT_JSON})"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(SCENARIOS),
        metavar="SCENARIO",
        help=f"run only these scenarios: {', '.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--repetitions",
        type=int,
        default=None,
        help="recorded repetitions per contender (at least 5; default "
        f"{QUICK_REPETITIONS} quick, {FULL_REPETITIONS} full; the bulk scenarios always make 5, "
        "the import timing at least 31 in a full run)",
    )
    parser.add_argument(
        "--profile",
        choices=list(PROFILES),
        metavar="SCENARIO",
        help="instead of the table, run SCENARIO's SDK contender once under cProfile and print "
        f"the top functions by cumulative and own time, per call or row: {', '.join(PROFILES)}",
    )
    parser.add_argument(
        "--profile-baseline",
        action="store_true",
        help="with --profile: also profile the scenario's baseline (raw aiohttp; raw httpx on "
        "the mock) and print where the SDK's own time per call or row exceeds it",
    )
    parser.add_argument(
        "--top", type=int, default=25, help="with --profile: rows per table (default 25)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the chosen scenarios, print the table, write the JSON; return 0 whatever the numbers."""
    args = _parser().parse_args(argv)
    repetitions = args.repetitions or (QUICK_REPETITIONS if args.quick else FULL_REPETITIONS)
    if repetitions < QUICK_REPETITIONS:
        _parser().error(f"--repetitions must be at least {QUICK_REPETITIONS}")
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as pycache, Responder() as responder:
        context = Context(
            responder=responder, quick=args.quick, repetitions=repetitions, pycache=pycache
        )
        if args.profile:
            print(profile(context, args.profile, compare=args.profile_baseline, top=args.top))
            return 0
        return _table(context, args, repetitions)


def _table(context: Context, args: argparse.Namespace, repetitions: int) -> int:
    chosen = args.only or list(SCENARIOS)
    rows: list[Row] = []
    timings: dict[str, float] = {}
    started = time.perf_counter()
    responder = context.responder
    sent = headers_sent(context)
    for name in SCENARIOS:
        if name not in chosen:
            continue
        print(f"running {name}...", file=sys.stderr, flush=True)
        began = time.perf_counter()
        rows += SCENARIOS[name](context)
        timings[name] = round(time.perf_counter() - began, 2)
    elapsed = time.perf_counter() - started
    table = markdown(rows)
    server = [row.server_us_per_request for row in rows if row.server_us_per_request is not None]
    print(table)
    print()
    if server:
        print(
            f"The responder ({responder.loop}) spent {statistics.median(server):.0f} µs of CPU "
            f"per request (median over rows; {min(server):.0f}..{max(server):.0f}): compare "
            "with the clients' µs/call above."
        )
    headers_agree = len({tuple(headers.items()) for headers in sent.values()}) == 1
    agree = "yes" if headers_agree else "NO"
    print(f"Every contender sent the same protocol headers and token: {agree}.")
    missed = [f"{row.title} / {row.contender}" for row in rows if row.met is False]
    print(f"Targets missed: {', '.join(missed) if missed else 'none'}. ({elapsed:.0f} s)")
    document = to_json(
        rows,
        {
            "mode": "quick" if args.quick else "full",
            "repetitions": repetitions,
            "scenarios": chosen,
            "responder_loop": responder.loop,
            "seconds": round(elapsed, 1),
            "seconds_per_scenario": timings,
            "headers_agree": headers_agree,
            "headers_sent": sent,
        },
    )
    write_json(args.json, document)
    print(f"Wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
