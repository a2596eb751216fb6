"""The staged rollout in force, stored and carried out: plans in the hub's database, offers to the vans.

``governorate/rollout.py`` is the policy (pure): canaries first, then waves, pausing when a wave's failures pass
the threshold, pinned vans kept, a fleet rollback. This module keeps the plans (``rollouts``, migration m010; the
newest row is in force), reads what each van last said of its software (its ``tel.snapshot``: ``software.id``,
the version it runs, and ``update.refused``, the versions it refused — failed health check or refused by TUF;
``update.deferred``, those whose check lost the link and that it will try again: its wave waits for it), and
**offers** each van the release the policy gives it (governorate/updates.py sends it at the lowest priority). The
ingest workers call :func:`drive` every few seconds; the fleet screen and ``governorate rollout status`` show the
last decision.

A van whose software speaks a protocol older than 4 cannot take a release over the link (it does not know
``update-chunk``): it is left out of the waves and shown as needing a technician (``provision van install``).

Rolling the fleet back offers the previous release again. A van refuses older TUF metadata than it has seen (a
rollback attack looks exactly like that), so the previous release must be **signed again** first
(``provision release build <its folder> --keys …`` gives it newer metadata): :func:`roll_back` checks it and says so.
"""

from __future__ import annotations

import json
import logging
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from edge.sync import protocol as p
from edge.sync.schema import is_bundle_name
from governorate import rollout, staff
from governorate.store import HubStore, now_iso
from governorate.updates import Bundle, OfferError, Updates

log = logging.getLogger("governorate.rollouts")

OVER_THE_LINK = 4  # the protocol version that brought update-chunk
HEARS_WORD = 5  # … and the one that brought update-target: the governorate's word on the release to run
_COLUMNS = ("id", "target", "target_version", "target_folder", "previous", "previous_version", "previous_folder",
            "canaries", "wave_sizes", "max_failure_rate", "pinned", "rolled_back", "state", "reason", "created_by",
            "created_at", "decided_at")


@dataclass(frozen=True)
class VanSoftware:
    van: str
    running: str | None  # the updater's id of the version it runs
    version: str | None  # its version number
    refused: frozenset[str]
    phase: str | None
    last: str | None
    schema: int | None
    # Deferred (edge/update, docs/updates.md): a check lost the link and so did the version gone back to; the van
    # tries it again once its link is back. Neither running nor refused: its wave waits for it.
    deferred: frozenset[str] = frozenset()
    heard: bool = True  # False: added to the fleet (governorate vans add), nothing heard from it yet
    # Taken out of service (governorate vans remove): still in the policy's fleet — its reports and failures count,
    # a wave it is in waits for it — but offered nothing and told nothing.
    retired: bool = False

    @property
    def over_the_link(self) -> bool:
        return (self.schema or 0) >= OVER_THE_LINK


def fleet(store: HubStore) -> dict[str, VanSoftware]:
    out = {}
    for van, telemetry, schema, last_seen, retired_at in store._read(
            # A retired van stays in: leaving it out made its failure vanish (a paused rollout went on by itself)
            # and its canary wave disappear (the whole fleet got an untested release). drive and tell skip it.
            "SELECT van, telemetry, schema, last_seen, retired_at FROM vans ORDER BY van"):
        values = json.loads(telemetry) if telemetry else {}
        refused = _ids(values.get("update.refused"))
        out[van] = VanSoftware(
            van, _text(values.get("software.id")), _text(values.get("software.version")), refused,
            _text(values.get("update.phase")), _text(values.get("update.last")), schema,
            _ids(values.get("update.deferred")) - refused,  # a van never says both; if it did, refused wins
            heard=last_seen is not None, retired=retired_at is not None)
    return out


def _ids(value) -> frozenset[str]:
    """A comma-separated list of the updater's ids, as the van reports them."""
    return frozenset(x for x in value.split(",") if x) if isinstance(value, str) else frozenset()


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None


def current(store: HubStore) -> dict | None:
    rows = store._read(f"SELECT {', '.join(_COLUMNS)} FROM rollouts ORDER BY id DESC LIMIT 1")
    if not rows:
        return None
    row = dict(zip(_COLUMNS, rows[0], strict=True))
    for key in ("canaries", "wave_sizes", "pinned"):
        row[key] = json.loads(row[key])
    row["rolled_back"] = bool(row["rolled_back"])
    return row


def plan_of(row: dict) -> rollout.Plan:
    return rollout.Plan(row["target"], row["previous"], tuple(row["canaries"]), tuple(row["wave_sizes"]),
                        row["max_failure_rate"], dict(row["pinned"]), row["rolled_back"])


def _new_row(store: HubStore, row: dict, who: str, action: str, subject: str | None = None) -> dict:
    plan_of(row)  # refuses a plan the policy refuses (wave sizes, rate, target = previous)
    with store.transaction() as conn:
        staff.audit(conn, who, f"rollout.{action}", subject or row["target"],
                    {"target": row["target"], "version": row["target_version"], "previous": row["previous"],
                     "canaries": list(row["canaries"]), "waves": list(row["wave_sizes"]), "pinned": row["pinned"]})
        conn.execute(
            "INSERT INTO rollouts (target, target_version, target_folder, previous, previous_version, previous_folder, "
            "canaries, wave_sizes, max_failure_rate, pinned, rolled_back, state, reason, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'rolling-out', NULL, ?, ?)",
            [row["target"], row["target_version"], row["target_folder"], row["previous"], row["previous_version"],
             row["previous_folder"], json.dumps(list(row["canaries"])), json.dumps(list(row["wave_sizes"])),
             row["max_failure_rate"], json.dumps(row["pinned"]), int(row["rolled_back"]), who, now_iso()])
    return current(store)


def start(store: HubStore, target_folder: Path, *, previous: str, previous_folder: Path | None = None,
          canaries: tuple[str, ...] = (), wave_sizes: tuple[int, ...] = (5, 20), max_failure_rate: float = 0.2,
          who: str = "cli") -> dict:
    """A new rollout of the signed release in ``target_folder``; ``previous`` is the id the fleet runs now."""
    target = Bundle(Path(target_folder))
    prev = Bundle(Path(previous_folder)) if previous_folder else None
    if prev is not None and prev.name != previous:
        raise OfferError(f"The previous release folder is {prev.name}, not {previous}.",
                         "مجلد الإصدار السابق لا يطابق الإصدار المذكور.")
    try:
        plan = rollout.Plan(target.name, previous, tuple(canaries), tuple(wave_sizes), max_failure_rate)
    except ValueError as exc:
        raise OfferError(f"The rollout plan is not valid: {exc}.", "خطة النشر غير صحيحة.") from None
    old = current(store)
    return _new_row(store, {
        "target": plan.target, "target_version": target.version, "target_folder": str(target.folder.resolve()),
        "previous": previous, "previous_version": prev.version if prev else None,
        "previous_folder": str(prev.folder.resolve()) if prev else None, "canaries": plan.canaries,
        "wave_sizes": plan.wave_sizes, "max_failure_rate": plan.max_failure_rate,
        "pinned": old["pinned"] if old else {}, "rolled_back": False}, who, "start")


def resume(store: HubStore, who: str = "cli") -> dict:
    """Go on after a pause: the same plan again, with the vans that failed pinned to where they are (they rolled
    themselves back), so their failures no longer hold the wave."""
    row = _require(store)
    failed = {v.van: v.running for v in fleet(store).values() if row["target"] in v.refused and v.running}
    return _new_row(store, {**row, "pinned": {**row["pinned"], **failed}}, who, "resume")


def roll_back(store: HubStore, who: str = "cli") -> dict:
    """Every van that is not pinned goes back to the previous release (signed again: see the module's doc)."""
    row = _require(store)
    if not row["previous_folder"]:
        raise OfferError("This rollout names no previous release folder to go back to.",
                         "لا يوجد مجلد للإصدار السابق للرجوع إليه.")
    if _targets_version(Path(row["previous_folder"])) <= _targets_version(Path(row["target_folder"])):
        raise OfferError("Sign the previous release again first (provision release build <folder> --keys …): a van "
                         "refuses older signed metadata than it has seen, as it would a rollback attack.",
                         "وقّع الإصدار السابق من جديد أولًا؛ العربة ترفض بيانات توقيع أقدم مما رأت.")
    return _new_row(store, {**row, "rolled_back": True}, who, "back")


def pin(store: HubStore, van: str, who: str = "cli") -> dict:
    """Keep ``van`` on the version it runs now: it is offered nothing until unpinned."""
    row = _require(store)
    running = fleet(store).get(van)
    if running is None or running.running is None:
        raise OfferError(f"Van {van} has not said which version it runs yet.", "لم تُبلغ العربة بإصدارها بعد.")
    return _new_row(store, {**row, "pinned": {**row["pinned"], van: running.running}}, who, "pin", van)


def unpin(store: HubStore, van: str, who: str = "cli") -> dict:
    row = _require(store)
    return _new_row(store, {**row, "pinned": {k: v for k, v in row["pinned"].items() if k != van}}, who, "unpin", van)


def _require(store: HubStore) -> dict:
    row = current(store)
    if row is None:
        raise OfferError("No rollout has been started.", "لم يبدأ أي نشر للإصدار بعد.")
    return row


def _targets_version(folder: Path) -> int:
    try:
        return int(json.loads((folder / "tuf" / "targets.json").read_text())["signed"]["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def _decide(row: dict, vans: dict[str, VanSoftware]) -> rollout.Decision:
    """The policy's decision for the plan ``row`` over the vans that can take a release over the link."""
    able = [v for v in vans.values() if v.over_the_link]
    return rollout.decide(plan_of(row), [v.van for v in able],
                          {v.van: rollout.Report(v.running, v.refused, v.deferred) for v in able})


def screen(store: HubStore, updates: Updates) -> dict:
    """What the fleet's software screen shows: the rollout in force with the policy's decision now, and per van what
    it runs, what it should run, the offer on its way and the updater's last word."""
    row = current(store)
    vans = fleet(store)
    decision = _decide(row, vans) if row is not None else None
    offers = {o["van"]: o for o in updates.offers()}
    names = {}
    if row is not None:
        names = {row["target"]: row["target_version"], row["previous"]: row["previous_version"] or row["previous"]}
    wave_of = {van: i for i, wave in enumerate(decision.waves) for van in wave} if decision else {}
    # The retired vans the rollout waits for: in the wave in progress, neither running the target nor failed (a
    # retired canary that never ran it). Staff pin it, or start the rollout again with other canaries.
    waiting_retired = []
    if decision is not None and decision.state == "rolling-out" and decision.started:
        waiting_retired = [van for van in decision.waves[decision.started - 1] if vans[van].retired
                           and van not in decision.succeeded and van not in decision.failed]
    words_sent = told(store)
    out = []
    for v in vans.values():
        target = decision.versions.get(v.van) if decision else None
        offer = offers.get(v.van)
        out.append({
            "van": v.van, "version": v.version, "running": v.running, "target": target,
            "target_version": names.get(target, target), "wave": wave_of.get(v.van),
            "pinned": row is not None and v.van in row["pinned"], "phase": v.phase, "last": v.last,
            "refused": sorted(v.refused), "over_the_link": v.over_the_link, "heard": v.heard,
            "retired": v.retired,
            "deferred": target is not None and target in v.deferred and target != v.running,
            "up_to_date": target is not None and target == v.running,
            "failed": decision is not None and v.van in decision.failed,
            "offer": offer and {k: offer[k] for k in ("bundle", "version", "state", "held", "total", "error")},
            # A deferred release the governorate's last word cancels: "sent" (on its way), "heard" (the van applied
            # it: its next retry drops the release), None (nothing cancelled).
            "cancel": _cancel_state(v, words_sent.get(v.van)),
        })
    return {"rollout": row, "decision": decision, "vans": out, "waiting_retired": waiting_retired}


def _cancel_state(v: VanSoftware, word: dict | None) -> str | None:
    if not v.deferred or word is None or word["release"] is None or not (v.deferred - {word["release"]}):
        return None
    if word["outcome"] == "rejected":
        return "refused"  # the van said why (an older word than the one it holds …): the van page lists it
    return "heard" if word["applied"] else "sent"


_SAID: set[tuple] = set()  # (rollout, van, version) whose deferred release could not be cancelled, logged once


def drive(store: HubStore, updates: Updates, now: datetime | None = None) -> rollout.Decision | None:
    """Decide with the vans' last reports and offer each van what it should run; record the decision."""
    row = current(store)
    if row is None:
        return None
    vans = fleet(store)
    decision = _decide(row, vans)
    folders = {row["target"]: row["target_folder"], row["previous"]: row["previous_folder"]}
    offered = {o["van"]: o["bundle"] for o in updates.offers()}
    for van, version in decision.versions.items():
        have = vans[van]
        if have.retired:
            continue  # out of service: offered nothing (its wave waits for it; staff pin it to go on)
        # A van holding a deferred release the plan no longer gives it (staff rolled the fleet back, pinned the van
        # or started another rollout) would try it again once its link is back: the release it should run is offered
        # to it, even the one it runs — switching to it is what makes the van forget the deferred one (edge/update).
        # A van that hears the governorate's word (schema 5) is told instead (tell: no download, at once).
        cancel = bool(have.deferred - {version}) and (have.schema or 0) < HEARS_WORD
        if (van in row["pinned"] or version == have.running) and not cancel:
            continue
        stale = cancel and version != row["target"] and folders.get(version) and \
            _targets_version(Path(folders[version])) <= _targets_version(Path(row["target_folder"]))
        if version in have.refused or not folders.get(version) or stale:
            if cancel and (row["id"], van, version) not in _SAID:  # said once per process, not every few seconds
                _SAID.add((row["id"], van, version))
                log.warning("rollout %s: %s holds a deferred release it should not run, and %s cannot be offered "
                            "to cancel it (refused by the van, no folder, or older signed metadata than the target)",
                            row["id"], van, version)
            continue
        if offered.get(van) == version:
            continue  # on its way, arrived, refused or withdrawn by staff: offered once, not again and again
        try:
            updates.offer(van, Path(folders[version]), expect=version)
        except OfferError as exc:
            log.error("rollout %s: %s cannot be offered to %s: %s", row["id"], version, van, exc.detail)
    if (decision.state, decision.reason) != (row["state"], row["reason"]):  # written when it changes, not every turn
        with store.transaction() as conn:
            conn.execute("UPDATE rollouts SET state = ?, reason = ?, decided_at = ? WHERE id = ?",
                         [decision.state, decision.reason, (now or datetime.now(UTC)).isoformat(), row["id"]])
    return decision


# --- the governorate's word on the release to run (the cancel of a deferred release) ---------------------------

class Sender(Protocol):
    """governorate.ingest.Hub: ``record`` a downlink in the caller's transaction, ``publish`` it after the commit."""

    def record(self, conn, van: str, message: p.DownMessage): ...

    def publish(self, downlink) -> None: ...


def word_for(van: VanSoftware, version: str | None, offer: dict | None) -> str | None:
    """The release the governorate says ``van`` should run: the plan's ``version`` for it (None: no rollout covers
    it), unless staff withdrew the offer of the release it deferred — then the one it runs; with no plan, the release
    offered to it by hand (withdrawn: the one it runs). None: the governorate names none (nothing to cancel)."""
    withdrawn = offer is not None and offer["state"] == "withdrawn"
    if withdrawn and offer["bundle"] in van.deferred and version in (None, offer["bundle"]):
        return van.running
    if version is not None:
        return version
    if offer is not None:
        return van.running if withdrawn else offer["bundle"]
    return None


def words(store: HubStore, updates: Updates) -> dict[str, str | None]:
    """For each van whose last report names a deferred release: the release the governorate says it should run."""
    everyone = fleet(store)
    vans = {v.van: v for v in everyone.values() if v.deferred and not v.retired}  # a retired van is told nothing
    if not vans:
        return {}
    row = current(store)
    decision = _decide(row, everyone) if row is not None else None
    offers = {o["van"]: o for o in updates.offers()}
    return {van: word_for(v, decision.versions.get(van) if decision else None, offers.get(van))
            for van, v in vans.items()}


# Per hub store: van → (its session, the release) last told by this process (a hub restarted tells each van again).
_TOLD: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def tell(store: HubStore, updates: Updates, sender: Sender) -> int:
    """Send each van that holds a deferred release, is online and hears the word (schema 5), the release it should
    run (``update-target``): once in each of its sessions, and again when that release changes (a fleet rollback, a
    pin, another rollout, its offer withdrawn). A downlink like any other — recorded, sent at once, sent again until
    the van says it applied it — never behind the van's backlog or a release's chunks: the van's ``retry`` waits for
    it once its link is back (edge/update, docs/updates.md), and drops every deferred release it does not name.
    Returns how many were sent."""
    said = words(store, updates)
    if not said:
        return 0
    online = {van: (session, schema) for van, online, session, schema in store._read(
        "SELECT van, online, session, schema FROM vans WHERE online = 1")}
    sent = 0
    told_here = _TOLD.setdefault(store, {})
    for van, release in sorted(said.items()):
        session, schema = online.get(van, (None, None))
        if not session or (schema or 0) < HEARS_WORD or told_here.get(van) == (session, release):
            continue
        if release is not None and not is_bundle_name(release):
            # The release it runs, as its report says (a withdrawn offer): a van's odd report is no release to name.
            log.warning("%s reports it runs %r, not a release id: no word sent", van, str(release)[:40])
            told_here[van] = (session, release)
            continue
        with store.transaction() as conn:
            downlink = sender.record(conn, van, p.UpdateTarget(release, session))
        sender.publish(downlink)
        told_here[van] = (session, release)
        sent += 1
        log.info("told %s (session %s) the release it should run: %s", van, session, release or "none named")
    return sent


def told(store: HubStore) -> dict[str, dict]:
    """Each van's last word sent (the software screen): ``release``, ``at``, and whether the van applied it."""
    out: dict[str, dict] = {}
    for van, payload, created_at, applied_at, outcome in store._read(
            "SELECT van, payload, created_at, applied_at, outcome FROM downlinks WHERE msg_id IN "
            "(SELECT max(msg_id) FROM downlinks WHERE kind = 'update-target' GROUP BY van)"):  # each van's newest
        try:
            release = p.decode_down(bytes(payload), van=van, kind="update-target").message.release
        except p.ProtocolError:
            continue
        out[van] = {"release": release, "at": created_at, "applied": applied_at is not None and outcome == "applied",
                    "outcome": outcome}
    return out
