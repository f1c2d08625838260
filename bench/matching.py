"""Matching engine (``bot.domain.matching.propose``) on synthetic pools.

For each pool size, in a fresh spawned child process: build a random pool (half the people
mentors, capacity 1–4, 1–4 topics out of 20, one of 15 time zones, random working hours on
a 30-minute grid, a goal sentence for ~40% of mentees), time ``propose``, read the child's
peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, taken right after ``propose``, so
it includes the interpreter, numpy/scipy and the pool itself), then compare its total fit
with a random pairing and a greedy pairing (all pairs by fit, best first, taken while
feasible; for pools above ``GREEDY_ALL_PAIRS`` pairs the greedy pass only sees each mentee's
top-50 candidate list, which it says). For the largest size that still solves densely, the
sparse restriction (top-50 mentors per mentee) is also run and its loss reported.

Run: ``python bench/matching.py`` (``--sizes 200,2000`` for a smoke run).
Always exits 0: it is a measurement; targets met or missed are printed.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SIZES = (200, 2_000, 10_000, 50_000)
# size: (seconds, MB) targets
TARGETS = {10_000: (5.0, 1024), 50_000: (15.0, 2048)}
GREEDY_ALL_PAIRS = 40_000_000
TOPICS = [
    ("leadership", "Leadership"),
    ("public_speaking", "Public speaking"),
    ("career_growth", "Career growth"),
    ("system_design", "System design"),
    ("code_review", "Code review"),
    ("product_sense", "Product sense"),
    ("data_science", "Data science"),
    ("machine_learning", "Machine learning"),
    ("frontend", "Frontend"),
    ("backend", "Backend"),
    ("security", "Security"),
    ("testing", "Testing"),
    ("negotiation", "Negotiation"),
    ("hiring", "Hiring"),
    ("management", "Management"),
    ("writing", "Writing"),
    ("design", "Design"),
    ("cloud", "Cloud"),
    ("mobile", "Mobile"),
    ("open_source", "Open source"),
]
LABELS = dict(TOPICS)
ZONES = [
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Helsinki",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
]


def make_pool(size: int, seed: int = 1):
    from bot.domain.matching import Candidate

    rng = random.Random(seed)
    ids = [t for t, _ in TOPICS]
    people = []
    for i in range(size):
        if i % 2 == 0:
            roles = {"mentor", "mentee"} if rng.random() < 0.1 else {"mentor"}
        else:
            roles = {"mentee"}
        topics = rng.sample(ids, rng.randint(1, 4))
        goals = ""
        if "mentee" in roles and rng.random() < 0.4:
            wanted = " and ".join(LABELS[t].lower() for t in rng.sample(ids, rng.randint(1, 2)))
            goals = f"I'd like to get better at {wanted} this year."
        start = rng.randrange(14, 23) * 30  # 7:00–11:00
        people.append(
            Candidate(
                user_id=f"U{i:07d}",
                roles=frozenset(roles),
                topics=frozenset(topics),
                goals=goals,
                capacity=rng.randint(1, 4),
                tz=rng.choice(ZONES),
                work_start=start,
                work_end=start + rng.randrange(12, 21) * 30,  # 6–10 hours
            )
        )
    return people


def random_baseline(pool, seed: int = 2) -> float:
    import numpy as np

    rng = np.random.default_rng(seed)
    slots = np.repeat(np.arange(len(pool.mentors)), pool.capacity)
    rng.shuffle(slots)
    mentees = rng.permutation(len(pool.mentees))[: len(slots)]
    slots = slots[: len(mentees)]
    mentor_ids = np.array([m.user_id for m in pool.mentors])
    mentee_ids = np.array([e.user_id for e in pool.mentees])
    keep = mentor_ids[slots] != mentee_ids[mentees]  # never with oneself
    return float(pool.pair_scores(mentees[keep], slots[keep]).sum())


def greedy(rows, cols, scores, capacity, n_mentees) -> float:
    """Best pair first, taken while the mentee is free and the mentor has room."""
    import numpy as np

    order = np.lexsort((cols, rows, -scores))
    room = capacity.tolist()
    free = [True] * n_mentees
    left, total = n_mentees, 0.0
    for r, c, s in zip(
        rows[order].tolist(), cols[order].tolist(), scores[order].tolist(), strict=True
    ):
        if free[r] and room[c]:
            free[r] = False
            room[c] -= 1
            total += s
            left -= 1
            if not left:
                break
    return total


def greedy_baseline(pool) -> tuple[float, str]:
    import numpy as np

    from bot.domain import matching

    forbidden = matching._forbidden(pool, (), ())
    n_e, n_m = len(pool.mentees), len(pool.mentors)
    if n_e * n_m <= GREEDY_ALL_PAIRS:
        step = max(1, 2_000_000 // n_m)
        rows, cols, scores = [], [], []
        f_rows, f_cols = forbidden
        for start in range(0, n_e, step):
            block = pool.scores(slice(start, start + step))
            lo, hi = np.searchsorted(f_rows, [start, start + step])
            block[f_rows[lo:hi] - start, f_cols[lo:hi]] = 0.0  # never with oneself
            r, c = np.nonzero(block > 0)
            rows.append(r + start)
            cols.append(c)
            scores.append(block[r, c])
        all_rows, all_cols = np.concatenate(rows), np.concatenate(cols)
        total = greedy(all_rows, all_cols, np.concatenate(scores), pool.capacity, n_e)
        return total, "all pairs"
    rows, cols, scores = matching._top_candidates(pool, forbidden, 0.0, 50)
    return greedy(rows, cols, scores, pool.capacity, n_e), "top-50 lists"


def run_size(size: int, conn) -> None:
    import numpy as np

    from bot.domain.matching import Pool, propose

    people = make_pool(size)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    proposal = propose(people, topic_labels=LABELS)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    pool = Pool(people, topic_labels=LABELS)
    result = {
        "size": size,
        "mentors": len(pool.mentors),
        "mentees": len(pool.mentees),
        "slots": int(np.minimum(pool.capacity, len(pool.mentees)).sum()),
        "method": proposal.method,
        "seconds": seconds,
        "peak_mb": peak_mb,
        "base_mb": rss_before,
        "optimal": proposal.total_score,
        "matched": len(proposal.pairs),
        "random": random_baseline(pool),
    }
    started = time.perf_counter()
    result["greedy"], result["greedy_scope"] = greedy_baseline(pool)
    result["greedy_seconds"] = time.perf_counter() - started
    if proposal.method == "dense":
        started = time.perf_counter()
        sparse = propose(people, topic_labels=LABELS, dense_limit=0)
        result["sparse_seconds"] = time.perf_counter() - started
        result["sparse"] = sparse.total_score
    conn.send(result)
    conn.close()


def measure(size: int) -> dict:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=run_size, args=(size, child))
    process.start()
    child.close()
    result = parent.recv()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default=",".join(map(str, SIZES)), help="comma-separated pool sizes"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]

    print(f"command: python bench/matching.py --sizes {','.join(map(str, sizes))}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average {load}; "
        "peak = ru_maxrss of a fresh spawned child per size (interpreter + numpy/scipy + pool)"
    )
    header = (
        f"{'people':>7} {'mentors':>7} {'mentees':>7} {'slots':>6} {'method':>6} "
        f"{'time s':>7} {'peak MB':>8} {'optimal':>10} {'greedy':>10} {'random':>10} "
        f"{'opt/greedy':>10} {'target':>14}"
    )
    print(header)
    print("-" * len(header))
    notes = []
    for size in sizes:
        r = measure(size)
        target = TARGETS.get(size)
        verdict = "—"
        if target:
            ok_t, ok_m = r["seconds"] < target[0], r["peak_mb"] < target[1]
            verdict = (
                f"<{target[0]:g}s {'✓' if ok_t else '✗'} <{target[1] // 1024}GB "
                f"{'✓' if ok_m else '✗'}"
            )
        ratio = r["optimal"] / r["greedy"] if r["greedy"] else float("nan")
        print(
            f"{r['size']:>7} {r['mentors']:>7} {r['mentees']:>7} {r['slots']:>6} "
            f"{r['method']:>6} {r['seconds']:>7.2f} {r['peak_mb']:>8.0f} {r['optimal']:>10.2f} "
            f"{r['greedy']:>10.2f} {r['random']:>10.2f} {ratio:>10.4f} {verdict:>14}"
        )
        notes.append(
            f"{size}: {r['matched']} of {r['mentees']} mentees matched; greedy over "
            f"{r['greedy_scope']} ({r['greedy_seconds']:.1f}s); RSS before propose "
            f"{r['base_mb']:.0f} MB"
        )
        if "sparse" in r:
            loss = r["optimal"] - r["sparse"]
            notes.append(
                f"{size}: sparse (top-50 per mentee) {r['sparse']:.4f} in "
                f"{r['sparse_seconds']:.2f}s vs dense optimum {r['optimal']:.4f}: loss {loss:.4f} "
                f"({100 * loss / r['optimal']:.3f}%)"
            )
    print()
    print("\n".join(notes))


if __name__ == "__main__":
    main()
