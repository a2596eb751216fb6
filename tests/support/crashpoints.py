"""Crash a real process at every filesystem and database step of an operation, then check what is left.

The operation runs in a child process (forked by ``python -m tests.support.crashpoints``, which has imported
everything once) that watches itself with two tracers:
- an audit hook (``sys.addaudithook``), which sees every file the process opens for writing, every
  rename, delete, ``mkdir`` and ``rmdir`` before it happens;
- SQLite's statement trace on its connection, which sees ``BEGIN``, every ``INSERT``/``UPDATE``/``DELETE``,
  ``SAVEPOINT``/``RELEASE`` and ``COMMIT`` before SQLite runs it.

A first run records the steps and must finish. Then, for each step *k*, a new child gets a fresh copy of
the prepared van and kills itself (``os._exit``: no rollback, no clean-up, no ``finally``) just before
step *k*. The van is "restarted" — what its start-up and housekeeping do runs (the sweeper, the print
queue's recovery) — and the invariants are checked: the van's own (:func:`van_invariants`) and the
operation's. Then the operation is tried again, as the operator would (or as the hub's redelivery does),
and everything is checked once more.

``os.fsync`` calls are recorded too (not crashed at): the recorded run must fsync every file it writes,
and the folder it renames into, before the next ``COMMIT`` — the order that makes a power cut (which,
unlike ``os._exit``, also loses what the page cache had not written) as safe as the crash tested here.

See docs/outbox.md ("Crash consistency") for what each operation promises, and ``python -m bench.crashpoints``
for the long version.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

CRASHED = 86
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
FS_EVENTS = {"os.rename": "rename", "os.remove": "remove", "os.rmdir": "rmdir", "os.mkdir": "mkdir",
             "os.link": "link", "os.symlink": "symlink", "os.truncate": "truncate", "shutil.rmtree": "rmtree"}
SQL_STEPS = {"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE", "INSERT", "UPDATE", "DELETE",
             "REPLACE"}
CHILD_TIMEOUT_S = 120


# --------------------------------------------------------------------------------------------------
# The child: run one operation, dying before step k
# --------------------------------------------------------------------------------------------------


class Tracer:
    def __init__(self, crash_at: int, root: Path):
        self.crash_at, self.root = crash_at, root
        self.trace: list[str] = []  # the steps, and the fsyncs between them
        self.steps = 0
        self.armed = False

    def _rel(self, path) -> str:
        try:
            return Path(os.fsdecode(path)).resolve().relative_to(self.root).as_posix()
        except (ValueError, TypeError):
            return str(path)

    def _step(self, label: str) -> None:
        self.steps += 1
        if self.steps == self.crash_at:
            os._exit(CRASHED)
        self.trace.append(label)

    def audit(self, event: str, args: tuple) -> None:
        if not self.armed:
            return
        if event == "open":
            path, _mode, flags = args
            if isinstance(path, int) or not isinstance(flags, int) or not flags & WRITE_FLAGS:
                return
            self._step(f"write {self._rel(path)}")
        elif event in FS_EVENTS:
            self._step(f"{FS_EVENTS[event]} {self._rel(args[0])}")

    def sql(self, statement: str) -> None:
        if not self.armed:
            return
        words = statement.split()
        if words and words[0].upper() in SQL_STEPS:
            self._step("sql " + " ".join(words)[:90])

    def fsync(self, fd: int) -> None:
        if self.armed:
            try:
                self.trace.append(f"fsync {self._rel(os.readlink(f'/proc/self/fd/{fd}'))}")
            except OSError:
                self.trace.append("fsync ?")


def _child(name: str, workdir: str, crash_at: str, trace_out: str) -> None:
    """Run one operation (in a process of its own, forked by :func:`_serve`), dying before step ``crash_at``."""
    from edge.store.db import open_db
    from tests.support.crash_scenarios import find

    scenario = find(name)
    root = Path(workdir).resolve()
    tracer = Tracer(int(crash_at), root)
    sys.addaudithook(tracer.audit)
    real_fsync = os.fsync

    def fsync(fd):
        tracer.fsync(fd)
        return real_fsync(fd)

    os.fsync = fsync
    db = open_db(root / "van.db")
    db.conn.set_trace_callback(tracer.sql)
    run = scenario.load(root, db)  # everything the operation needs, read before the tracer is armed
    tracer.armed = True
    run()
    tracer.armed = False
    Path(trace_out).write_text(json.dumps(tracer.trace))
    db.close()


def _serve() -> None:
    """Import once, then fork a process per line read (``NAME WORKDIR K TRACE_OUT``); answer its exit code.

    Forking from a process that has imported everything but opened nothing (no database, no printer)
    makes each crash point cost a fork, not a Python start-up."""
    sys.dont_write_bytecode = True  # a .pyc written by a late import is not a step of the operation
    import tests.support.crash_scenarios  # noqa: F401 - imported here, before the forks
    from edge.store import db  # noqa: F401

    for line in sys.stdin:
        args = line.split()
        if args == ["ping"]:  # ready: everything is imported
            print(0, flush=True)
            continue
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _child(*args)
            except BaseException:  # noqa: BLE001 - the parent reads the traceback from stderr
                import traceback

                traceback.print_exc()
                code = 1
            sys.stderr.flush()
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), flush=True)


# --------------------------------------------------------------------------------------------------
# The parent: prepare, crash at each step, restart, check
# --------------------------------------------------------------------------------------------------


@dataclass
class Report:
    operation: str
    steps: list[str]
    points: int = 0  # crash points exercised
    violations: list[str] = field(default_factory=list)
    seconds: float = 0.0
    complete_seconds: float = 0.0  # the uninterrupted run, restart checks included: the baseline

    def as_dict(self) -> dict:
        return {"operation": self.operation, "crash_points": self.points, "steps": len(self.steps),
                "violations": len(self.violations), "seconds": round(self.seconds, 1)}


class Children:
    """The fork server (:func:`_serve`) for one exercise: a child process per crash point, cheaply."""

    def __init__(self):
        root = Path(__file__).resolve().parents[2]
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(root)}
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.server = subprocess.Popen([sys.executable, "-m", "tests.support.crashpoints"], cwd=root, env=env,
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                       text=True)
        self.server.stdin.write("ping\n")
        self.server.stdin.flush()
        if not self.server.stdout.readline():
            raise RuntimeError(f"the crash-point server did not start: {self._err(0)}")

    def run(self, key: str, workdir: Path, crash_at: int) -> tuple[int, list[str], str]:
        trace_out = workdir / "trace.json"
        start = self.stderr.tell()
        self.server.stdin.write(f"{key} {workdir} {crash_at} {trace_out}\n")
        self.server.stdin.flush()
        answer = self.server.stdout.readline()
        if not answer:
            raise RuntimeError(f"the crash-point server stopped: {self._err(0)}")
        trace = json.loads(trace_out.read_text()) if trace_out.exists() else []
        trace_out.unlink(missing_ok=True)
        return int(answer), trace, self._err(start)

    def _err(self, start: int) -> str:
        self.stderr.seek(start)
        text = self.stderr.read()
        self.stderr.seek(0, os.SEEK_END)
        return text[-2000:]

    def close(self) -> None:
        self.server.stdin.close()
        self.server.wait(timeout=CHILD_TIMEOUT_S)
        self.stderr.close()


def exercise(scenario, tmp: Path, *, every: int = 1, key: str | None = None) -> Report:
    """Run ``scenario`` to completion once, then crash it before every ``every``-th step (``key``: how the
    child finds it, e.g. "large:submit")."""
    key = key or scenario.name
    started = time.monotonic()
    base = tmp / "prepared"
    base.mkdir(parents=True)
    scenario.prepare(base)
    recorded = tmp / "complete"
    shutil.copytree(base, recorded)
    children = Children()
    try:
        return _exercise(scenario, key, base, recorded, children, every, started)
    finally:
        children.close()


def _exercise(scenario, key, base, recorded, children, every, started) -> Report:
    tmp = base.parent
    begun = time.monotonic()
    rc, trace, err = children.run(key, recorded, 0)
    steps = [t for t in trace if not t.startswith("fsync ")]
    report = Report(scenario.name, steps)
    if rc != 0:
        report.violations.append(f"the complete run failed ({rc}): {err}")
        return report
    report.violations += [f"complete run: {v}" for v in restart_and_check(scenario, recorded)]
    report.complete_seconds = time.monotonic() - begun
    report.violations += durability(trace, scenario.unsynced)
    shutil.rmtree(recorded)
    for k in range(1, len(steps) + 1, every):
        run = tmp / f"crash-{k}"
        shutil.copytree(base, run)
        rc, _trace, err = children.run(key, run, k)
        where = f"crash before step {k}/{len(steps)} ({steps[k - 1]})"
        if rc != CRASHED:
            report.violations.append(f"{where}: the child ended with {rc}, not at the step: {err}")
        else:
            report.violations += [f"{where}: {v}" for v in restart_and_check(scenario, run)]
        report.points += 1
        shutil.rmtree(run)
    report.seconds = time.monotonic() - started
    return report


def restart_and_check(scenario, workdir: Path) -> list[str]:
    """What the van does when it starts again, then the invariants; then the retry, then them again."""
    from edge.store import print_jobs, sweep
    from edge.store.db import open_db

    db = open_db(workdir / "van.db")
    try:
        # Start-up: the print worker's recovery; housekeeping's sweeper (no other process is running here,
        # so no grace period is needed for a page being saved at this moment).
        print_jobs.recover(db)
        sweep.sweep(db, workdir / "documents", older_than=timedelta(0))
        problems = van_invariants(workdir, db, final=False) + scenario.check(workdir, db)
    except Exception as exc:  # noqa: BLE001 - a restart that fails is a violation to report, not a test crash
        db.close()
        return [f"restart failed: {type(exc).__name__}: {exc}"]
    try:
        scenario.retry(workdir, db)
        after = van_invariants(workdir, db, final=True) + scenario.check_done(workdir, db)
        return problems + [f"after the retry: {p}" for p in after]
    except Exception as exc:  # noqa: BLE001
        return [*problems, f"the retry failed: {type(exc).__name__}: {exc}"]
    finally:
        db.close()


def van_invariants(workdir: Path, db, *, final: bool) -> list[str]:
    """What must hold in any van at any instant (after the start-up recovery). A file written under a fixed
    temporary name (``keys/.trust-list.cose.tmp``) may outlive a crash, since the next write of that file
    reuses it; it must be gone once the operation is done (``final``). Scanned pages use random names,
    which the sweeper removes: none may be left under ``documents/`` at any time."""
    from edge.store import drafts, sweep

    problems = []
    docs = workdir / "documents"
    if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
        problems.append("the database is corrupt")
    if db.execute("PRAGMA foreign_key_check").fetchall():
        problems.append("a foreign key points nowhere")
    for number, path, size, digest in db.execute("SELECT request_number, path, size, sha256 FROM documents"):
        file = docs / path
        if not file.is_file():
            problems.append(f"document {path} of {number} has no file")
        elif file.stat().st_size != size or hashlib.sha256(file.read_bytes()).hexdigest() != digest:
            problems.append(f"document {path} of {number} is not the page registered")
        if not db.execute("SELECT 1 FROM requests WHERE number = ?", [number]).fetchone():
            problems.append(f"document {path} belongs to no request ({number})")
        if not db.execute("SELECT 1 FROM outbox WHERE stream = 'doc' AND json_extract(body, '$.path') = ?",
                          [path]).fetchone():
            problems.append(f"document {path} of {number} will never be sent (no doc outbox row)")
    for (number,) in db.execute("SELECT number FROM requests"):
        if not db.execute("SELECT 1 FROM outbox WHERE stream = 'tx' AND kind = 'request.submitted' AND "
                          "json_extract(body, '$.number') = ?", [number]).fetchone():
            problems.append(f"request {number} will never reach the governorate (no outbox row)")
    for path in drafts.referenced(db):
        if not (docs / path).is_file():
            problems.append(f"a draft's page {path} has no file")
    named = sweep.named(db)
    for file in (docs.rglob("*") if docs.exists() else ()):
        if file.is_file() and file.relative_to(docs).as_posix() not in named:
            problems.append(f"file {file.relative_to(docs)} is named by no row (an orphan)")
    for tmp in (workdir if final else docs).rglob("*.tmp"):
        problems.append(f"temporary file {tmp.relative_to(workdir)} left behind")
    if db.execute("SELECT count(*) FROM print_jobs WHERE state = 'printing'").fetchone()[0]:
        problems.append("a print job is still 'printing' after the restart")
    return problems


def durability(trace: list[str], unsynced: tuple[str, ...] = ()) -> list[str]:
    """Every file written is fsynced, and so is the folder it is renamed into, before the next COMMIT."""
    problems, written, renamed = [], set(), set()
    for entry in trace:
        verb, _, path = entry.partition(" ")
        if verb == "write" and not any(path.startswith(u) for u in unsynced):
            written.add(path)
        elif verb == "rename":
            renamed.add(str(Path(path).parent))
        elif verb == "fsync":
            written.discard(path)
            renamed.discard(path)
        elif entry.startswith("sql COMMIT") or entry.startswith("sql RELEASE"):
            if entry.startswith("sql COMMIT"):
                problems += [f"{p} is not fsynced before the commit" for p in sorted(written)]
                problems += [f"folder {p} is not fsynced after a rename, before the commit" for p in sorted(renamed)]
                written.clear()
                renamed.clear()
    return problems


if __name__ == "__main__":
    _serve()
