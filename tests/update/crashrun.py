"""One update operation in a process that kills itself just before its K-th step (the crash-point test).

``python -m tests.update.crashrun SCENARIO WORKDIR K TRACE_OUT PORT`` — K = 0 runs to the end and records
the steps. SCENARIO: ``apply`` (recover, install, switch) or ``retry`` (a deferred release switched to again, or
cancelled by the governorate's word). A step is what tests.support.crashpoints.Tracer sees (every file opened for
writing, rename, remove, mkdir, rmdir, symlink, rmtree, before it happens) and, here, every program started (venv,
pip, the health check's ``edge --version``, the units' restart): a power cut there means that program never ran.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


def operation(work: Path, port: int, scenario: str = "apply") -> None:
    """What ``python -m edge.update apply`` does after verifying: recover, install, switch (and roll back); or what
    ``python -m edge.update retry`` does: switch to the deferred release again (and roll back)."""
    up = updater(work, port)
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


def main(scenario: str, workdir: str, crash_at: str, trace_out: str, port: str) -> None:
    work = Path(workdir).resolve()
    tracer = UpdateTracer(int(crash_at), work)
    sys.addaudithook(tracer.audit)
    real_fsync = os.fsync

    def fsync(fd):
        tracer.fsync(fd)
        return real_fsync(fd)

    os.fsync = fsync
    tracer.armed = True
    operation(work, int(port), scenario)
    tracer.armed = False
    Path(trace_out).write_text(json.dumps(tracer.trace))


if __name__ == "__main__":
    main(*sys.argv[1:])
