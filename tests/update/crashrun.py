"""One update operation in a process that kills itself just before its K-th step (the crash-point test).

``python -m tests.update.crashrun SCENARIO WORKDIR K TRACE_OUT PORT [DEADLINE]`` — K = 0 runs to the end and records
the steps. SCENARIO: ``apply`` (recover, install, switch) or ``retry`` (a deferred release switched to again, or
cancelled by the governorate's word). A step is what tests.support.crashpoints.Tracer sees (every file opened for
writing, rename, remove, mkdir, rmdir, symlink, rmtree, before it happens) and, here, every program started (venv,
pip, the health check's ``edge --version``, the units' restart): a power cut there means that program never ran.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from edge.update import install as install_mod
from edge.update import received
from edge.update.errors import UpdateError
from edge.update.verify import Verified
from tests.support.crashpoints import Tracer


class UpdateTracer(Tracer):
    def audit(self, event: str, args: tuple) -> None:
        if self.armed and event == "subprocess.Popen":
            argv = [Path(os.fsdecode(a)).name if i == 0 else os.fsdecode(a) for i, a in enumerate(args[1])]
            self._step("run " + " ".join(argv[:5]))
        else:
            super().audit(event, args)


def updater(work: Path, port: int, deadline: float = 2.0) -> install_mod.Updater:
    software = work / "opt"

    def restart() -> None:
        units = [sys.executable, "-m", "tests.update.vanproc", str(software), str(port)]
        if (work / "link-drops").exists():  # the link drops as the units restart (in the child: no step of ours)
            units = ["sh", "-c", f"printf '{{\"link\": false}}' > {software / 'surroundings.json'} && exec \"$@\"",
                     "sh", *units]
        subprocess.run(units, check=True)

    def reload() -> None:  # systemd reading the units again: what it reads is in the state of work/units
        (work / "reloaded").write_text("")

    return install_mod.Updater(install_mod.Layout(software, work / "state", work / "units"), reload=reload,
                               health=install_mod.Health(deadline_s=deadline, url=f"http://127.0.0.1:{port}/api/health",
                                                         interval_s=0.1),
                               restart=restart, seed_pip=False)


def candidate(work: Path) -> Verified:
    info = json.loads((work / "candidate.json").read_text())
    folder = work / "verified"
    manifest = json.loads((folder / "release.json").read_text())
    return Verified(folder, manifest["version"], info["identity"], manifest, info["targets_version"])


def operation(work: Path, port: int, scenario: str = "apply", deadline: float = 2.0) -> None:
    """What ``python -m edge.update apply`` does after verifying: recover, install, switch (and roll back); or what
    ``python -m edge.update retry`` does: switch to the deferred release again (and roll back)."""
    up = updater(work, port, deadline)
    with up:
        if scenario == "retry":  # with the governorate's word the sync agent kept, when there is one
            up.retry(received.target(work / "data" / "update" / "staging"))
            return
        up.recover()
        try:
            vid = up.install(candidate(work))
        except UpdateError:
            return
        up.switch(vid)


def main(scenario: str, workdir: str, crash_at: str, trace_out: str, port: str, deadline: str = "2") -> None:
    work = Path(workdir).resolve()
    tracer = UpdateTracer(int(crash_at), work)
    sys.addaudithook(tracer.audit)
    real_fsync = os.fsync

    def fsync(fd):
        tracer.fsync(fd)
        return real_fsync(fd)

    os.fsync = fsync
    tracer.armed = True
    operation(work, int(port), scenario, float(deadline))
    tracer.armed = False
    Path(trace_out).write_text(json.dumps(tracer.trace))


# --------------------------------------------------------------------------------------------------
# The fork server: a process per run, without paying Python's start-up and the imports each time
# --------------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
CHILD_TIMEOUT_S = 120


def _serve() -> None:
    """Import once, then fork a process per line read (a JSON list: ``["crashrun", SCENARIO, WORKDIR, K, TRACE_OUT,
    PORT]`` — :func:`main` — or ``["edge.update", "recover", ...]`` — what ``python -m edge.update recover ...``
    runs — then the files for its stdout and stderr); answer its exit code.

    Each run is still a real process of its own (an operation killed with ``os._exit``, a ``recover`` started after
    it): only the ~0.7 s of importing edge.update (TUF, click) is paid once, not four times per crash point."""
    sys.dont_write_bytecode = True  # a .pyc written by a late import is not a step of the operation
    from edge.update import __main__ as cli  # everything imported here, before the forks

    for line in sys.stdin:
        request = json.loads(line)
        if request == "ping":  # ready: everything is imported
            print(0, flush=True)
            continue
        argv, out, err = request
        pid = os.fork()
        if pid == 0:
            signal.alarm(CHILD_TIMEOUT_S)  # a run that hangs dies (SIGALRM), and says so by its exit code
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            for fd, path in ((1, out), (2, err)):
                os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
            code = 0
            try:
                if argv[0] == "crashrun":
                    main(*argv[1:])
                else:
                    cli.main(args=argv[1:], prog_name="python -m edge.update")
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
                if not isinstance(exc.code, int | None):
                    print(exc.code, file=sys.stderr)
            except BaseException:  # noqa: BLE001 - the parent reads the traceback from stderr
                import traceback

                traceback.print_exc()
                code = 1
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), flush=True)


class Server:
    """The test's side of :func:`_serve`: ``run(["crashrun", ...])`` or ``run(["edge.update", "recover", ...])``,
    answered as ``subprocess.run(..., capture_output=True, text=True)`` would."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="crashrun-"))
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.update.crashrun", "serve"], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._ask("ping")

    def _ask(self, request) -> int:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"the crash-run server stopped ({self.proc.poll()})")
        return int(answer)

    def run(self, argv: list[str]) -> subprocess.CompletedProcess:
        out, err = self.folder / "out", self.folder / "err"
        code = self._ask([[str(a) for a in argv], str(out), str(err)])
        return subprocess.CompletedProcess(argv, code, out.read_text(errors="replace"),
                                           err.read_text(errors="replace"))

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=CHILD_TIMEOUT_S)
        for p in self.folder.iterdir():
            p.unlink()
        self.folder.rmdir()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        _serve()
    else:
        main(*sys.argv[1:])
