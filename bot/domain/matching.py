"""Pure matching engine: propose mentor ↔ mentee pairs that maximise total fit.

No Slack, no database, no clock: everything comes in as arguments (the reference
date for time-zone offsets defaults to a fixed date, ``REFERENCE_DATE``).

Fit of a (mentor, mentee) pair, in [0, 1]::

    W_TOPICS * |mentee topics ∩ mentor topics| / |mentee topics|
  + W_GOALS  * min(#mentor topics mentioned in the mentee's goals, GOAL_SATURATION)
             / GOAL_SATURATION
  + W_HOURS  * overlap of the daily working hours (in UTC, for the reference date)
             / min(length of the two working days)

A topic is "mentioned" in the goals when its label or its id (``public_speaking`` →
"public speaking") appears as a run of whole words, compared case-insensitively with a
trailing plural "s" dropped.

``propose`` solves a capacity-expanded assignment problem exactly: every mentor with
capacity *c* becomes *c* interchangeable slots, each mentee takes at most one slot, and
the total fit is maximised. Forbidden pairs (the same person, a past partner in either
direction, a coordinator exclusion) and pairs whose fit is below ``min_score`` or zero are
never proposed; a mentee without an acceptable slot stays unmatched. Small problems use a
dense ``linear_sum_assignment``; large ones restrict each mentee to its best
``max_candidates_per_mentee`` mentors and use ``min_weight_full_bipartite_matching`` on a
sparse graph (optimal for the restricted graph, which may cost a little fit).

Scores in bulk are computed with numpy and agree with ``fit()`` (which also produces the
human-readable reasons, only for the chosen pairs).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

MENTOR, MENTEE = "mentor", "mentee"
ROLES = frozenset({MENTOR, MENTEE})
MIN_CAPACITY, MAX_CAPACITY = 1, 5
DAY_MINUTES = 24 * 60
W_TOPICS, W_GOALS, W_HOURS = 0.5, 0.2, 0.3
GOAL_SATURATION = 2
REFERENCE_DATE = date(2025, 1, 15)
DENSE, SPARSE = "dense", "sparse"

# Rows of the score matrix computed at once in the sparse path (bounded memory).
_CHUNK_CELLS = 1_000_000
_THREADS = min(4, os.cpu_count() or 1)
# Hour-overlap lookup table between distinct (UTC start, length) buckets, if small enough.
_MAX_HOUR_TABLE = 16_000_000


@dataclass(frozen=True)
class Candidate:
    user_id: str
    roles: frozenset[str]
    topics: frozenset[str]
    goals: str
    capacity: int
    tz: str
    work_start: int
    work_end: int

    def __post_init__(self) -> None:
        if not self.roles or not self.roles <= ROLES:
            raise ValueError(f"{self.user_id}: roles must be a non-empty subset of {set(ROLES)}")
        if MENTOR in self.roles and not MIN_CAPACITY <= self.capacity <= MAX_CAPACITY:
            raise ValueError(
                f"{self.user_id}: a mentor's capacity is {MIN_CAPACITY}..{MAX_CAPACITY}, "
                f"not {self.capacity}"
            )
        if not (0 <= self.work_start < DAY_MINUTES and 0 <= self.work_end <= DAY_MINUTES):
            raise ValueError(f"{self.user_id}: working hours are minutes within a day")
        if self.work_start == self.work_end:
            raise ValueError(f"{self.user_id}: working hours must not be empty")

    @property
    def work_minutes(self) -> int:
        """Length of the working day; an end before the start runs past midnight."""
        return (self.work_end - self.work_start) % DAY_MINUTES or DAY_MINUTES


@dataclass(frozen=True)
class Reason:
    """One human-readable part of a fit: ``kind`` is "topics", "goals" or "hours";
    ``value`` is that part's sub-score in [0, 1] before weighting."""

    kind: str
    text: str
    value: float

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class ProposedPair:
    mentor_id: str
    mentee_id: str
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Proposal:
    pairs: tuple[ProposedPair, ...]
    unmatched_mentees: tuple[str, ...]
    total_score: float
    method: str  # DENSE | SPARSE


# --- pair fit ---------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")


def _norm(word: str) -> str:
    word = word.casefold()
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word


def _words(text: str) -> tuple[str, ...]:
    return tuple(_norm(w) for w in _WORD.findall(text))


def topic_label(topic: str, topic_labels: Mapping[str, str] | None = None) -> str:
    if topic_labels and topic in topic_labels:
        return topic_labels[topic]
    text = " ".join(_WORD.findall(topic))
    return text[:1].upper() + text[1:] if text else topic


@lru_cache(maxsize=4096)
def _topic_phrases(topic: str, label: str | None) -> frozenset[tuple[str, ...]]:
    found = {_words(topic)}
    if label is not None:
        found.add(_words(label))
    found.discard(())
    return frozenset(found)


def _phrases(topic: str, topic_labels: Mapping[str, str] | None) -> frozenset[tuple[str, ...]]:
    return _topic_phrases(topic, topic_labels.get(topic) if topic_labels else None)


@lru_cache(maxsize=4096)
def _grams(goals: str, longest: int) -> frozenset[tuple[str, ...]]:
    words = _words(goals)
    return frozenset(
        words[i : i + n] for n in range(1, longest + 1) for i in range(len(words) - n + 1)
    )


def _mentioned(
    goals: str, topics: Collection[str], topic_labels: Mapping[str, str] | None
) -> frozenset[str]:
    """The topics among ``topics`` whose label or id appears in ``goals``."""
    if not goals or not topics:
        return frozenset()
    phrases = {t: _phrases(t, topic_labels) for t in topics}
    longest = max((len(p) for ps in phrases.values() for p in ps), default=0)
    if not longest:
        return frozenset()
    grams = _grams(goals, longest)
    return frozenset(t for t, ps in phrases.items() if not ps.isdisjoint(grams))


@lru_cache(maxsize=4096)
def _utc_offset(tz: str, on: date) -> int:
    """Minutes east of UTC at local noon on ``on``."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc
    offset = datetime.combine(on, time(12), tzinfo=zone).utcoffset()
    assert offset is not None
    return round(offset.total_seconds() / 60)


def _utc_interval(person: Candidate, on: date) -> tuple[int, int]:
    """(start in minutes after UTC midnight, length in minutes) of the working day."""
    return (person.work_start - _utc_offset(person.tz, on)) % DAY_MINUTES, person.work_minutes


def _overlap(a: int, a_len: int, b: int, b_len: int) -> int:
    """Minutes shared per day by two daily intervals (starts in [0, 1440), lengths ≤ 1440)."""
    return sum(
        max(0, min(a + a_len, b + b_len + k) - max(a, b + k))
        for k in (-DAY_MINUTES, 0, DAY_MINUTES)
    )


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not rest:
        return f"{hours}h"
    return f"{hours}h {rest}m" if hours else f"{rest}m"


def _combine(topic: float, goal: float, hours: float) -> float:
    return W_TOPICS * topic + W_GOALS * goal + W_HOURS * hours


def explain(
    mentor: Candidate,
    mentee: Candidate,
    *,
    topic_labels: Mapping[str, str] | None = None,
    on: date | None = None,
) -> tuple[float, tuple[Reason, ...]]:
    """The fit of a pair and its parts (see the module docstring for the formula)."""
    on = on or REFERENCE_DATE
    reasons: list[Reason] = []

    shared = mentor.topics & mentee.topics
    topic = len(shared) / len(mentee.topics) if mentee.topics else 0.0
    if shared:
        labels = sorted((topic_label(t, topic_labels) for t in shared), key=str.casefold)
        reasons.append(Reason("topics", "Shared topics: " + ", ".join(labels), topic))

    mentioned = _mentioned(mentee.goals, mentor.topics, topic_labels)
    goal = min(len(mentioned), GOAL_SATURATION) / GOAL_SATURATION
    if mentioned:
        words = sorted(topic_label(t, topic_labels).lower() for t in mentioned)
        reasons.append(Reason("goals", "Goals mention: " + ", ".join(words), goal))

    (a, a_len), (b, b_len) = _utc_interval(mentor, on), _utc_interval(mentee, on)
    minutes = _overlap(a, a_len, b, b_len)
    hours = minutes / min(a_len, b_len)
    if minutes:
        text = f"{_duration(minutes)} overlap in working hours"
    else:
        text = "No overlap in working hours"
    reasons.append(Reason("hours", text, hours))

    return _combine(topic, goal, hours), tuple(reasons)


def fit(
    mentor: Candidate,
    mentee: Candidate,
    *,
    topic_labels: Mapping[str, str] | None = None,
    on: date | None = None,
) -> tuple[float, tuple[str, ...]]:
    """Fit in [0, 1] and human-readable reasons, e.g. "Shared topics: Leadership",
    "Goals mention: leadership", "4h overlap in working hours"."""
    score, reasons = explain(mentor, mentee, topic_labels=topic_labels, on=on)
    return score, tuple(r.text for r in reasons)


# --- bulk scoring -----------------------------------------------------------------------


def _overlap_table(a: np.ndarray, a_len: np.ndarray, b: np.ndarray, b_len: np.ndarray):
    """Vectorised ``_overlap(...) / min(lengths)`` for broadcastable arrays (float64)."""
    a, a_len, b, b_len = (np.asarray(x, dtype=np.int64) for x in (a, a_len, b, b_len))
    total = np.zeros(np.broadcast_shapes(a.shape, b.shape), dtype=np.int64)
    for k in (-DAY_MINUTES, 0, DAY_MINUTES):
        part = np.minimum(a + a_len, b + b_len + k) - np.maximum(a, b + k)
        total += np.maximum(part, 0)
    return total / np.minimum(a_len, b_len)


class Pool:
    """Numeric features of a pool, for scoring many (mentee, mentor) pairs at once.

    Rows are mentees (``mentees[i]``), columns are mentors (``mentors[j]``); both keep the
    order of the candidates given.
    """

    def __init__(
        self,
        candidates: Sequence[Candidate],
        *,
        topic_labels: Mapping[str, str] | None = None,
        on: date | None = None,
    ) -> None:
        on = on or REFERENCE_DATE
        self.mentors = [c for c in candidates if MENTOR in c.roles]
        self.mentees = [c for c in candidates if MENTEE in c.roles]
        universe = sorted({t for m in self.mentors for t in m.topics})
        index = {t: i for i, t in enumerate(universe)}
        n_e, n_m, k = len(self.mentees), len(self.mentors), len(universe)

        mentor_topics = np.zeros((n_m, k), dtype=bool)
        for j, m in enumerate(self.mentors):
            mentor_topics[j, [index[t] for t in m.topics]] = True
        mentee_topics = np.zeros((n_e, k), dtype=bool)
        mentee_goals = np.zeros((n_e, k), dtype=bool)
        self.topic_count = np.zeros(n_e, dtype=np.float64)
        for i, e in enumerate(self.mentees):
            mentee_topics[i, [index[t] for t in e.topics if t in index]] = True
            self.topic_count[i] = len(e.topics)
            if e.goals:
                said = _mentioned(e.goals, universe, topic_labels)
                mentee_goals[i, [index[t] for t in said]] = True
        self.capacity = np.array([m.capacity for m in self.mentors], dtype=np.int64)

        # Exact integer counts come from bit sets; ranking uses float32 matrix products.
        self._mentor_bits = np.packbits(mentor_topics, axis=1)
        self._mentee_bits = np.packbits(mentee_topics, axis=1)
        self._goal_bits = np.packbits(mentee_goals, axis=1)
        self._has_goals = mentee_goals.any(axis=1)
        self._mentor_f = mentor_topics.astype(np.float64)
        self._mentee_f = mentee_topics.astype(np.float64)
        self._goal_f = mentee_goals.astype(np.float64)
        inv = np.divide(1.0, self.topic_count, out=np.zeros(n_e), where=self.topic_count > 0)
        self._topic_rows32 = (mentee_topics * (W_TOPICS * inv)[:, None]).astype(np.float32)
        self._goal_rows32 = (mentee_goals * (W_GOALS / GOAL_SATURATION)).astype(np.float32)

        e_iv = np.array([_utc_interval(e, on) for e in self.mentees], dtype=np.int64)
        m_iv = np.array([_utc_interval(m, on) for m in self.mentors], dtype=np.int64)
        e_iv, m_iv = e_iv.reshape(n_e, 2), m_iv.reshape(n_m, 2)
        self._e_iv, self._m_iv = e_iv, m_iv
        e_keys, self._e_bucket = np.unique(e_iv, axis=0, return_inverse=True)
        m_keys, self._m_bucket = np.unique(m_iv, axis=0, return_inverse=True)
        self._e_bucket = self._e_bucket.reshape(-1)
        self._m_bucket = self._m_bucket.reshape(-1)
        # Ranking works on mentors sorted by hour bucket ("rank order"), so that the hours
        # part of a block of mentees is a cheap np.repeat of their bucket rows.
        self.rank_order = np.argsort(self._m_bucket, kind="stable")
        self.rank_position = np.empty(n_m, dtype=np.intp)
        self.rank_position[self.rank_order] = np.arange(n_m)
        self._bucket_sizes = np.bincount(self._m_bucket, minlength=len(m_keys))
        self._mentor_t32 = np.ascontiguousarray(mentor_topics[self.rank_order].T, np.float32)
        self._hours: np.ndarray | None = None
        if len(e_keys) * len(m_keys) <= _MAX_HOUR_TABLE:
            self._hours = _overlap_table(
                e_keys[:, :1], e_keys[:, 1:], m_keys[None, :, 0], m_keys[None, :, 1]
            )
            self._hours_w32 = (W_HOURS * self._hours).astype(np.float32)

    def _hours_block(self, rows: np.ndarray, cols: np.ndarray | None = None) -> np.ndarray:
        cols_b = self._m_bucket if cols is None else self._m_bucket[cols]
        if self._hours is not None:
            return self._hours[self._e_bucket[rows]][:, cols_b]
        e = self._e_iv[rows]
        m = self._m_iv if cols is None else self._m_iv[cols]
        return _overlap_table(e[:, :1], e[:, 1:], m[None, :, 0], m[None, :, 1])

    def scores(self, rows: np.ndarray | slice | None = None) -> np.ndarray:
        """Exact fit (float64, same formula as ``fit``) of mentees ``rows`` × all mentors."""
        rows = np.arange(len(self.mentees))[rows if rows is not None else slice(None)]
        shared = self._mentee_f[rows] @ self._mentor_f.T
        with np.errstate(invalid="ignore", divide="ignore"):
            topic = shared / self.topic_count[rows, None]
        topic[self.topic_count[rows] == 0] = 0.0
        goal = np.minimum(self._goal_f[rows] @ self._mentor_f.T, GOAL_SATURATION)
        goal /= GOAL_SATURATION
        return _combine(topic, goal, self._hours_block(rows))

    def pair_scores(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Exact fit (float64) of the pairs (mentees[rows[i]], mentors[cols[i]])."""
        rows, cols = np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp)
        mentor_bits = self._mentor_bits[cols]
        shared = np.bitwise_count(self._mentee_bits[rows] & mentor_bits).sum(axis=1)
        said = np.bitwise_count(self._goal_bits[rows] & mentor_bits).sum(axis=1)
        count = self.topic_count[rows]
        topic = np.divide(shared, count, out=np.zeros(len(rows)), where=count > 0)
        goal = np.minimum(said, GOAL_SATURATION) / GOAL_SATURATION
        if self._hours is not None:
            hours = self._hours[self._e_bucket[rows], self._m_bucket[cols]]
        else:
            e, m = self._e_iv[rows], self._m_iv[cols]
            hours = _overlap_table(e[:, 0], e[:, 1], m[:, 0], m[:, 1])
        return _combine(topic, goal, hours)

    def rank_scores(self, rows: slice) -> np.ndarray:
        """Approximate fit (float32, ~1e-7) of a block of mentees × all mentors, for ranking;
        columns are in rank order (``mentors[rank_order[j]]``)."""
        block = self._topic_rows32[rows] @ self._mentor_t32
        with_goals = np.flatnonzero(self._has_goals[rows])
        if len(with_goals):
            first = rows.start or 0
            said = self._goal_rows32[first + with_goals] @ self._mentor_t32
            np.minimum(said, np.float32(W_GOALS), out=said)
            block[with_goals] += said
        if self._hours is not None:
            block += np.repeat(self._hours_w32[self._e_bucket[rows]], self._bucket_sizes, axis=1)
        else:
            idx = np.arange(len(self.mentees))[rows]
            block += (W_HOURS * self._hours_block(idx, self.rank_order)).astype(np.float32)
        return block


# --- assignment ---------------------------------------------------------------------------


def _forbidden(
    pool: Pool,
    past_pairs: Collection[tuple[str, str]],
    exclusions: Collection[tuple[str, str]],
) -> tuple[np.ndarray, np.ndarray]:
    """(mentee rows, mentor cols) that must never be paired, deduplicated and sorted."""
    e_index = {c.user_id: i for i, c in enumerate(pool.mentees)}
    m_index = {c.user_id: j for j, c in enumerate(pool.mentors)}
    cells = {(e_index[u], j) for u, j in m_index.items() if u in e_index}
    for a, b in (*past_pairs, *exclusions):
        for mentor, mentee in ((a, b), (b, a)):
            if mentor in m_index and mentee in e_index:
                cells.add((e_index[mentee], m_index[mentor]))
    ordered = sorted(cells)
    rows = np.array([r for r, _ in ordered], dtype=np.intp)
    cols = np.array([c for _, c in ordered], dtype=np.intp)
    return rows, cols


def _solve_dense(
    pool: Pool, forbidden: tuple[np.ndarray, np.ndarray], min_score: float
) -> list[tuple[int, int]]:
    scores = pool.scores()
    ok = (scores >= min_score) & (scores > 0)
    ok[forbidden] = False
    n_e = len(pool.mentees)
    slots = np.minimum(pool.capacity, n_e)
    # Any forbidden cell loses to an "unmatched" dummy column (weight 0), whatever else.
    never = -2.0 * (n_e + 1)
    weights = np.repeat(np.where(ok, scores, never), slots, axis=1)
    slot_owner = np.repeat(np.arange(len(pool.mentors)), slots)
    weights = np.hstack([weights, np.zeros((n_e, n_e))])
    rows, cols = linear_sum_assignment(weights, maximize=True)
    chosen = []
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        if c < len(slot_owner) and ok[r, slot_owner[c]]:
            chosen.append((r, int(slot_owner[c])))
    return chosen


def _top_candidates(
    pool: Pool, forbidden: tuple[np.ndarray, np.ndarray], min_score: float, keep: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each mentee's best ``keep`` acceptable mentors: (rows, cols, exact scores)."""
    n_e, n_m = len(pool.mentees), len(pool.mentors)
    f_rows, f_cols = forbidden[0], pool.rank_position[forbidden[1]]
    step = max(1, _CHUNK_CELLS // max(1, n_m))
    keep = min(keep, n_m)

    def best(start: int) -> tuple[np.ndarray, np.ndarray]:
        stop = min(n_e, start + step)
        block = pool.rank_scores(slice(start, stop))
        lo, hi = np.searchsorted(f_rows, [start, stop])
        block[f_rows[lo:hi] - start, f_cols[lo:hi]] = -np.inf
        if keep < n_m:
            cols = np.argpartition(block, n_m - keep, axis=1)[:, n_m - keep :]
        else:
            cols = np.broadcast_to(np.arange(n_m), block.shape)
        alive = np.isfinite(np.take_along_axis(block, cols, axis=1))
        rows = np.broadcast_to(np.arange(start, stop)[:, None], cols.shape)
        return rows[alive], pool.rank_order[cols[alive]]

    # numpy releases the GIL in these kernels: blocks run on a few threads, and the
    # results are gathered in block order, so the outcome does not depend on timing.
    starts = range(0, n_e, step)
    workers = max(1, min(_THREADS, len(starts)))
    if workers == 1:
        parts = [best(s) for s in starts]
    else:
        with ThreadPoolExecutor(workers) as executor:
            parts = list(executor.map(best, starts))
    rows = np.concatenate([r for r, _ in parts]) if parts else np.zeros(0, dtype=np.intp)
    cols = np.concatenate([c for _, c in parts]) if parts else np.zeros(0, dtype=np.intp)
    exact = pool.pair_scores(rows, cols)
    ok = (exact >= min_score) & (exact > 0)
    return rows[ok], cols[ok], exact[ok]


def _solve_sparse(
    pool: Pool, forbidden: tuple[np.ndarray, np.ndarray], min_score: float, keep: int
) -> list[tuple[int, int]]:
    rows, cols, scores = _top_candidates(pool, forbidden, min_score, keep)
    n_e = len(pool.mentees)
    if not len(rows):
        return []
    # Slots only for mentors that appear, and no more than the mentees that list them.
    listed = np.bincount(cols, minlength=len(pool.mentors))
    slots = np.minimum(pool.capacity, listed)
    first_slot = np.concatenate([[0], np.cumsum(slots)[:-1]])
    n_slots = int(slots.sum())
    per_edge = slots[cols]
    edge = np.repeat(np.arange(len(rows)), per_edge)
    within = np.arange(len(edge)) - np.repeat(np.cumsum(per_edge) - per_edge, per_edge)
    slot_col = first_slot[cols[edge]] + within
    slot_owner = np.repeat(np.arange(len(pool.mentors)), slots)

    # Costs must be positive (zeros are "no edge"): cost = ceiling - score; a per-mentee
    # dummy node at cost = ceiling (fit 0) makes a full matching of the mentees exist.
    ceiling = float(scores.max()) + 1.0
    graph_rows = np.concatenate([rows[edge], np.arange(n_e)])
    graph_cols = np.concatenate([slot_col, n_slots + np.arange(n_e)])
    costs = np.concatenate([ceiling - scores[edge], np.full(n_e, ceiling)])
    graph = csr_matrix((costs, (graph_rows, graph_cols)), shape=(n_e, n_slots + n_e))
    matched_rows, matched_cols = min_weight_full_bipartite_matching(graph)
    return [
        (int(r), int(slot_owner[c]))
        for r, c in zip(matched_rows.tolist(), matched_cols.tolist(), strict=True)
        if c < n_slots
    ]


def _without_reciprocals(pairs: list[ProposedPair]) -> list[ProposedPair]:
    """Two people signed up as both may be proposed each as the other's mentor: the two
    would be invited twice, each way round. The better-fitting line stays (ties: the
    first by mentor id); the other's mentee waits for the next round."""
    kept: dict[frozenset[str], ProposedPair] = {}
    for pair in sorted(pairs, key=lambda p: (-p.score, p.mentor_id, p.mentee_id)):
        kept.setdefault(frozenset((pair.mentor_id, pair.mentee_id)), pair)
    return [pair for pair in pairs if kept[frozenset((pair.mentor_id, pair.mentee_id))] is pair]


def propose(
    candidates: Sequence[Candidate],
    *,
    past_pairs: Collection[tuple[str, str]] = (),
    exclusions: Collection[tuple[str, str]] = (),
    topic_labels: Mapping[str, str] | None = None,
    min_score: float = 0.0,
    max_candidates_per_mentee: int = 50,
    dense_limit: int = 4_000_000,
    on: date | None = None,
) -> Proposal:
    """An assignment of mentees to mentors maximising total fit (see the module docstring).

    Pairs are ordered by mentor id then mentee id; unmatched mentees keep input order.
    ``past_pairs`` and ``exclusions`` are unordered: (a, b) forbids a↔b in either role.
    """
    ids = [c.user_id for c in candidates]
    if len(set(ids)) != len(ids):
        raise ValueError("each person signs up once (merge roles into one Candidate)")
    if max_candidates_per_mentee < 1:
        raise ValueError("max_candidates_per_mentee must be at least 1")
    pool = Pool(candidates, topic_labels=topic_labels, on=on)
    n_e, n_m = len(pool.mentees), len(pool.mentors)
    total_slots = int(np.minimum(pool.capacity, n_e).sum()) if n_m else 0
    method = DENSE if n_e * total_slots <= dense_limit else SPARSE
    chosen: list[tuple[int, int]] = []
    if n_e and n_m:
        forbidden = _forbidden(pool, past_pairs, exclusions)
        if method == DENSE:
            chosen = _solve_dense(pool, forbidden, min_score)
        else:
            chosen = _solve_sparse(pool, forbidden, min_score, max_candidates_per_mentee)

    pairs = []
    for r, c in chosen:
        mentor, mentee = pool.mentors[c], pool.mentees[r]
        score, reasons = fit(mentor, mentee, topic_labels=topic_labels, on=on)
        pairs.append(ProposedPair(mentor.user_id, mentee.user_id, score, reasons))
    pairs = _without_reciprocals(pairs)
    pairs.sort(key=lambda p: (p.mentor_id, p.mentee_id))
    matched = {p.mentee_id for p in pairs}
    return Proposal(
        pairs=tuple(pairs),
        unmatched_mentees=tuple(e.user_id for e in pool.mentees if e.user_id not in matched),
        total_score=math.fsum(p.score for p in pairs),
        method=method,
    )
