"""The database handle: one engine per process, one session per unit of work (on SQLite,
requests' units of work committed in groups)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")

logger = logging.getLogger(__name__)


def make_engine(url: str, **kwargs: Any) -> Engine:
    # Statement parameters (people's typed words, tokens) never reach logs or the
    # text of a database error: SQLAlchemy shows "[SQL parameters hidden ...]" instead.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        # Several threads (web handlers, the scheduler) share the file; WAL lets
        # readers run beside the one writer and busy_timeout queues writers
        # instead of failing with "database is locked".
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # pysqlite's own BEGIN handling defers locks; we issue BEGIN IMMEDIATE
            # for write transactions ourselves so claims are atomic.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write", True) else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **kwargs)


def core(session: Session | Connection) -> Connection:
    """Where a Core statement built once runs: the bare connection, none of the ORM
    session's handling per statement. The session's pending ORM changes are written
    first, so the statement sees them (autoflush does this for ORM statements only)."""
    if not isinstance(session, Session):
        return session
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection()


def execute_arrays(session: Session | Connection, sql: str, params: dict[str, list[Any]]) -> int:
    """PostgreSQL only: one statement whose parameters are whole columns as arrays
    (``unnest``), sent in psycopg's binary format, in the session's transaction; returns
    the row count. Text arrays in the text format are escaped element by element, which
    cost more than the database's work for a wave of thousands of rows. ``sql`` uses
    psycopg's binary placeholders, ``%(name)b``."""
    connection = session.connection() if isinstance(session, Session) else session
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(sql, params)
        return cursor.rowcount


class Prepared:
    """A Core statement compiled once per dialect and run straight on the DB-API
    cursor of the session's connection, in its transaction.

    For the few statements a request waits for before its ack (``/mentor start``'s):
    SQLAlchemy's execution of even a statement built once (its execution context,
    cache key, result wrapping) costs about ten times what SQLite takes to answer it.
    Parameters and results go through the very type processors SQLAlchemy would apply
    (``UTCDateTime``, ``JSON``), so the rows written and read are the same; what
    SQLAlchemy fills in per call (a Python-side default, a value written into the
    statement, an IN list) is refused when compiling, since nothing here would fill
    it. ``columns`` names an INSERT's columns (the parameters every call gives).
    SQLAlchemy's statement events and echo do not see these statements; its
    transaction, begun and committed as usual, holds them."""

    def __init__(self, statement: Any, *, columns: tuple[str, ...] | None = None) -> None:
        self._statement = statement
        self._columns = list(columns) if columns is not None else None
        # One per engine's dialect (its paramstyle, its JSON serializer); two threads
        # compiling at once only compile the same thing twice.
        self._compiled: weakref.WeakKeyDictionary[Any, _Compiled] = weakref.WeakKeyDictionary()

    def _for(self, dialect: Any) -> _Compiled:
        compiled = self._compiled.get(dialect)
        if compiled is None:
            compiled = _Compiled.build(self._statement, dialect, self._columns)
            self._compiled[dialect] = compiled
        return compiled

    def _cursor(self, session: Session | Connection) -> tuple[_Compiled, Any]:
        connection = core(session)
        compiled = self._for(connection.dialect)
        driver: Any = connection.connection.driver_connection
        return compiled, driver.cursor()

    def rows(self, session: Session | Connection, params: dict[str, Any]) -> list[tuple]:
        """The statement's rows (a SELECT's, or an INSERT's RETURNING)."""
        compiled, cursor = self._cursor(session)
        try:
            cursor.execute(compiled.sql, compiled.parameters(params))
            return [compiled.result(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def execute_many(self, session: Session | Connection, rows: list[dict[str, Any]]) -> int:
        """Run the statement once per row; how many rows it changed."""
        compiled, cursor = self._cursor(session)
        try:
            cursor.executemany(compiled.sql, [compiled.parameters(row) for row in rows])
            return cursor.rowcount
        finally:
            cursor.close()


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: list[str] | None  # the parameters in order (qmark), or None (named)
    binds: dict[str, Callable[[Any], Any]]
    results: tuple[Callable[[Any], Any] | None, ...]

    @classmethod
    def build(cls, statement: Any, dialect: Any, columns: list[str] | None) -> _Compiled:
        compiled: Any = statement.compile(dialect=dialect, column_keys=columns)
        # Only what every call passes can be bound here: SQLAlchemy fills the rest when
        # it executes (a Python-side default, a value written into the statement, an
        # IN list expanded per call), and nothing here would.
        filled = [column.key for column in (*compiled.insert_prefetch, *compiled.update_prefetch)]
        if filled:
            raise ValueError(f"columns with Python-side defaults not given: {filled}")
        fixed = [name for name, bind in compiled.binds.items() if not bind.required]
        if fixed:
            raise ValueError(f"values fixed in the statement; bind them by name: {fixed}")
        if compiled.post_compile_params:
            raise ValueError("IN lists are expanded per call by SQLAlchemy: not here")
        binds = {}
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                binds[name] = process
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.exported_columns
        )
        return cls(
            sql=compiled.string,
            names=list(compiled.positiontup) if compiled.positional else None,
            binds=binds,
            results=results,
        )

    def parameters(self, params: dict[str, Any]) -> Any:
        processed = dict(params)
        for name, process in self.binds.items():
            if name in processed:
                processed[name] = process(processed[name])
        if self.names is None:
            return processed
        return tuple(processed[name] for name in self.names)

    def result(self, row: Any) -> tuple:
        return tuple(
            value if process is None else process(value)
            for process, value in zip(self.results, row, strict=True)
        )


@dataclass
class _Unit:
    """A request's unit of work, waiting for the database thread."""

    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    work: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def run(self, session: Session) -> Any:
        return self.work(session, *self.args, **self.kwargs)


class _Group:
    """The units queued for the next group commit (thread-safe)."""

    LARGEST = 64  # a bound on how long the first unit of a group waits for the last

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._units: list[_Unit] = []
        self._committing = False

    def add(self, unit: _Unit) -> bool:
        """Queue ``unit``; True if the database thread must be started for it."""
        with self._lock:
            self._units.append(unit)
            start, self._committing = not self._committing, True
            return start

    def take(self) -> list[_Unit]:
        """The next group, oldest first; empty (and the thread stops) when none is left."""
        with self._lock:
            group = self._units[: self.LARGEST]
            del self._units[: self.LARGEST]
            self._committing = bool(group)
            return group

    def stopped(self) -> bool:
        """The committing thread ended early: True if units wait (start another)."""
        with self._lock:
            self._committing = bool(self._units)
            return self._committing

    def abandon(self) -> list[_Unit]:
        """Every queued unit, taken out: nothing will run them."""
        with self._lock:
            units, self._units = self._units, []
            self._committing = False
            return units


# A unit, and what its request gets: a result, or the error it raised.
_Outcome = tuple[_Unit, Any, BaseException | None]


def _answer(outcomes: list[_Outcome]) -> None:
    """Hand each outcome to its request: one wake-up per event loop, not one per request."""
    for loop in {unit.loop for unit, _result, _error in outcomes}:
        mine = [outcome for outcome in outcomes if outcome[0].loop is loop]
        try:
            loop.call_soon_threadsafe(_settle, mine)
        except RuntimeError:  # that loop is closed: nobody waits for these any more
            logger.warning("%d unit(s) of work done for a closed event loop", len(mine))


def _settle(outcomes: list[_Outcome]) -> None:
    """On the requests' event loop: each unit's result, or its error, to its request."""
    for unit, result, error in outcomes:
        if unit.future.done():  # the request was cancelled meanwhile; its work stands
            continue
        if error is not None:
            unit.future.set_exception(error)
        else:
            unit.future.set_result(result)


class _WriterLock:
    """SQLite's writer, as the threads of one process take turns at it: a lock whose
    ``first()`` waiters go ahead of the others."""

    def __init__(self) -> None:
        lock = threading.Lock()
        # One queue each, on one lock: a release wakes the one thread whose turn it is,
        # not all eight delivery threads to find that it is the request's.
        self._first_turn = threading.Condition(lock)
        self._turn = threading.Condition(lock)
        self._held = False
        self._first_waiting = 0

    def acquire(self, first: bool = False) -> None:
        with self._turn:
            if first:
                self._first_waiting += 1
                try:
                    while self._held:
                        self._first_turn.wait()
                finally:
                    self._first_waiting -= 1
            else:
                while self._held or self._first_waiting:
                    self._turn.wait()
            self._held = True

    def release(self) -> None:
        with self._turn:
            self._held = False
            if self._first_waiting:
                self._first_turn.notify()
            else:
                self._turn.notify()

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *_exc: object) -> None:
        self.release()

    @contextmanager
    def first(self) -> Iterator[None]:
        self.acquire(first=True)
        try:
            yield
        finally:
            self.release()


class _NoLock(contextlib.nullcontext):  # type: ignore[type-arg]
    """PostgreSQL: no writer to queue for."""

    def first(self) -> contextlib.nullcontext[None]:
        return contextlib.nullcontext()


class Database:
    """Wraps the engine; ``run`` executes a unit of work off the event loop."""

    def __init__(self, url: str, *, engine: Engine | None = None, cipher: Any = None) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.cipher = cipher
        # SQLite has one writer, and a thread that finds it busy sleeps in SQLite's
        # backoff (1, 2, 5, 10 ms…) even after the lock is free. Threads of one process
        # therefore queue on a Python lock, which wakes the next one at once; other
        # processes still meet busy_timeout. The web process also sends its units
        # of work through one thread there, and they go first (``run``): an ack waits
        # for its commit, a delivery thread does not keep anyone waiting.
        self._writer: Any = _WriterLock() if self.dialect == "sqlite" else _NoLock()
        self._group: _Group | None = _Group() if self.dialect == "sqlite" else None
        self._executor = ThreadPoolExecutor(
            max_workers=1 if self.dialect == "sqlite" else 8, thread_name_prefix="db"
        )

    @property
    def cipher(self) -> Any:
        """The ``TokenCipher`` (or None) that stored tokens are sealed with; sessions
        carry it as ``session.info["cipher"]`` for the installation store."""
        return self._cipher

    @cipher.setter
    def cipher(self, cipher: Any) -> None:
        self._cipher = cipher
        self._sessions.configure(info={"cipher": cipher})

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on any error."""
        with self._writer, self._sessions() as session, session.begin():
            yield session

    def call(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        with self.session() as session:
            return work(session, *args, **kwargs)

    def call_core(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Like ``call`` but on a bare connection: for hot single statements, where the
        ORM session's bookkeeping would cost more than the statement."""
        with self._writer, self.engine.begin() as connection:
            return work(connection, *args, **kwargs)

    @contextmanager
    def _read_only(self) -> Iterator[Connection]:
        """A connection in a read-only transaction: on SQLite a plain ``BEGIN`` (WAL
        readers never wait for the writer) and none of this process's writer lock;
        rolled back at the end."""
        with self.engine.connect() as connection:
            connection.info["write"] = False
            try:
                yield connection
            finally:
                connection.rollback()
                connection.info.pop("write", None)

    def read(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """A read-only unit of work on a bare connection, so the sender loop's idle
        polls never queue behind a write."""
        with self._read_only() as connection:
            return work(connection, *args, **kwargs)

    def view(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``read`` for store functions that take a ``Session``. The sender's send-time
        checks use it, so eight delivery threads asking "is this still wanted?" never
        queue behind each other's writes."""
        with self._read_only() as connection, self._sessions(bind=connection) as session:
            result = work(session, *args, **kwargs)
            if session.new or session.dirty or session.deleted:
                # It would be rolled back unseen: a bug, said loudly.
                raise RuntimeError(f"{work.__name__} changed rows in a read-only view")
            return result

    def _call_first(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``call``, ahead of the units of work of other threads waiting for SQLite's
        writer (the sender's): what a request waits for before its ack."""
        with self._writer.first(), self._sessions() as session, session.begin():
            return work(session, *args, **kwargs)

    async def run(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``work(session, ...)`` in a transaction of its own or, on SQLite, of a group:
        the requests' units of work queued while the writer was busy are run one after
        the other in one transaction and committed together (group commit). The commit
        and the hop to the database thread are paid once per group instead of once per
        request. Each unit's writes are flushed when it ends and its objects leave the
        session, so it sees the database as it would alone. A unit that raises rolls the
        group back: the units before it run again as a group, it runs alone (and its
        request gets its error), and the units after it as a group, so one person's
        refusal never touches another's work. Units are pure database work, so running
        one twice costs only time."""
        loop = asyncio.get_running_loop()
        if self._group is None:
            return await loop.run_in_executor(
                self._executor, functools.partial(self._call_first, work, *args, **kwargs)
            )
        unit = _Unit(loop, loop.create_future(), work, args, kwargs)
        if self._group.add(unit):
            self._start_committing()
        return await unit.future

    def _start_committing(self) -> None:
        assert self._group is not None
        try:
            self._executor.submit(self._commit_groups)
        except RuntimeError as error:  # shut down (dispose): what is queued never runs
            _answer([(unit, None, error) for unit in self._group.abandon()])

    def _commit_groups(self) -> None:
        """The database thread: commit what is queued, a group at a time, until nothing is."""
        assert self._group is not None
        group: list[_Unit] = []
        try:
            while group := self._group.take():
                _answer(self._run_group(group))
        except BaseException as error:
            # A bug here must not leave requests waiting, nor the queue without a thread.
            logger.exception("group commit failed")
            _answer([(unit, None, error) for unit in group])
            if self._group.stopped():
                self._start_committing()
            raise

    def _run_group(self, units: list[_Unit]) -> list[_Outcome]:
        # A request cancelled while it waited (Slack gave up) is not carried out.
        units = [unit for unit in units if not unit.future.cancelled()]
        if len(units) <= 1:
            return [self._alone(unit) for unit in units]
        results: list[Any] = []
        failed = 0
        try:
            with self._writer.first(), self._sessions() as session, session.begin():
                for index, unit in enumerate(units):
                    failed = index
                    results.append(unit.run(session))
                    session.flush()  # its writes fail now, as its own, or not later
                    if not session.is_active:  # it swallowed a failed flush
                        raise RuntimeError(f"{unit.work.__name__} left its transaction unusable")
                    session.expunge_all()  # the next unit loads what it reads afresh
                failed = len(units)  # all ran: only the commit is left to fail
        except BaseException:  # noqa: BLE001 - rolled back; carried out again, below
            if failed == len(units):
                return [self._alone(unit) for unit in units]
            return [
                *self._run_group(units[:failed]),
                self._alone(units[failed]),
                *self._run_group(units[failed + 1 :]),
            ]
        return [(unit, result, None) for unit, result in zip(units, results, strict=True)]

    def _alone(self, unit: _Unit) -> _Outcome:
        try:
            return (unit, self._call_first(unit.run), None)
        except BaseException as error:  # noqa: BLE001 - the request's own error, raised there
            return (unit, None, error)

    def healthy(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - health checks report, they do not raise
            return False

    def dispose(self) -> None:
        self._executor.shutdown(wait=True)
        self.engine.dispose()
