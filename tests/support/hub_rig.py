"""The hub fuzz rig (issue #15): the real ``governorate ingest`` process on a real Mosquitto, hostile vans, a good van.

Used by tests/governorate/test_hub_boundary.py (a bounded run in ``make test``) and bench/hub_fuzz.py (a
longer one). Each round publishes batches of generated messages (tests/support/hub_strategies.py) from
the hostile vans, interleaved with a known-good van's request (its real tx and audit rows), then checks:

* the ingest process is alive;
* the good van's messages are stored (its request, each message row) and acked, none refused;
* the database holds nothing from a hostile van that the wire schema or admission should have refused:
  every message row, request, telemetry snapshot, thumbnail, document chunk, session, parked state and
  conflict of a hostile van comes from a message the hub should have admitted, and a message id kept
  twice keeps the content it had the first time (a replay with other content changes nothing);
* a hostile van's ack names only ids the hub should have admitted.

``check_pages`` then asks every staff page of the web back office (Flask test client on the same
database) and times it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import traceback
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import cbor2
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge.sync import protocol as p
from governorate.store import HubStore
from tests.support import hub_strategies as hs
from tests.support.gov_support import add_staff, login, offline_hub, van_requests
from tests.support.sync_harness import GOV, wait_until

GOOD = "V008"
HOSTILE = ("V007", "V009")
PAGES = ("/", "/fleet/partial", "/alerts", "/requests", "/quarantine", "/conflicts", "/audit",
         *(f"/vans/{v}" for v in (GOOD, *HOSTILE)))
PAGE_MAX_S = 2.0


def _json(value):
    return json.loads(json.dumps(value, ensure_ascii=False))


class HubFuzzRig:
    def __init__(self, folder: Path, broker_port: int, *, good_batch: int = 20, db: str | None = None):
        self.folder = Path(folder)
        self.port = broker_port
        self.db = db or str(self.folder / "hub.db")  # a SQLite file, or a PostgreSQL URL
        self.log = self.folder / "ingest.log"
        self.proc: subprocess.Popen | None = None
        self.restarts = 0
        self.good_batch = good_batch
        self._good: list[tuple[str, list[tuple[str, bytes]]]] = []  # (number, its messages)
        self._good_made = 0
        # What the hub should hold, from what it should have admitted (in publish order).
        self.admitted_ids: dict[tuple[str, str], object] = {}  # (van, msg_id) → the first admitted tx/audit body
        self.admitted_any: set[tuple[str, str]] = set()  # (van, msg_id) of any stream: what may be acked
        self.admitted_numbers: dict[str, object] = {}  # request number → the first admitted body
        self.admitted_tel: set[tuple[str, str, str]] = set()  # (van, at, values json)
        self.admitted_thumbs: set[tuple[str, str, bytes]] = set()
        self.admitted_chunks: set[tuple[str, str, int]] = set()
        self.admitted_sessions: dict[str, set[int]] = defaultdict(set)
        # Figures.
        self.sent = Counter()  # "stream/kind/fault"
        self.refused = Counter()  # expected reason
        self.stored = Counter()  # stream/kind admitted
        self.good_sent = 0
        self.acks: dict[str, set[str]] = defaultdict(set)
        self.rejects: dict[str, dict[str, str]] = defaultdict(dict)
        self.page_max_s = 0.0
        self.page_checks = 0

    # --- the processes ----------------------------------------------------------------------------------

    def start(self) -> HubFuzzRig:
        self._start_ingest()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fuzz-vans", protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_ack
        self.client.connect("127.0.0.1", self.port)
        self.client.loop_start()
        for van in (GOOD, *HOSTILE):
            self.client.subscribe(p.down_topic(GOV, van, "ack"), qos=1)
        time.sleep(0.3)  # the SUBACKs
        self.store = HubStore(self.db)
        return self

    def _start_ingest(self) -> None:
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "governorate.cli", "ingest", "--db", str(self.db), "--governorate", GOV,
             "--broker", f"mqtt://127.0.0.1:{self.port}", "--worker", "fuzz", "--metrics", "off"],
            stdout=log, stderr=log)
        log.close()
        if "://" in self.db:
            wait_until(lambda: "connected" in self.log.read_text() or self.proc.poll() is not None, 20,
                       "the ingest to start")
        else:
            wait_until(Path(self.db).exists, 20, "the ingest to make its database")
        time.sleep(1.0)  # it has connected and subscribed by then

    def stop(self) -> None:
        if getattr(self, "store", None):
            self.store.close()
        if getattr(self, "client", None):
            self.client.loop_stop()
            self.client.disconnect()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def restart_if_dead(self) -> bool:
        """For the long run: a dead ingest is counted and started again (the test asserts instead)."""
        if self.alive():
            return False
        self.restarts += 1
        self._start_ingest()
        return True

    def _on_ack(self, client, userdata, message) -> None:
        van = message.topic.split("/")[3]
        body = cbor2.loads(message.payload)["body"]
        self.acks[van].update(body["msg_ids"])
        self.rejects[van].update({r["msg_id"]: r["reason"] for r in body["rejected"]})

    # --- one round ---------------------------------------------------------------------------------------

    def _next_good(self) -> tuple[str, list[tuple[str, bytes]]]:
        if not self._good:
            self._good_made += 1
            numbers, messages = van_requests(self.folder / f"good{self._good_made}", GOOD, self.good_batch)
            by_number = {n: [] for n in numbers}
            for topic, payload in messages:
                body = cbor2.loads(payload)["body"]
                number = next((n for n in numbers if n in json.dumps(body)), numbers[0])
                by_number[number].append((topic, payload))
            self._good = list(by_number.items())
        return self._good.pop(0)

    def round(self, hostile: list[list[hs.Sent]], timeout: float = 20.0) -> list[str]:
        """Publish the hostile vans' batches around one good request; returns what went wrong (empty: all well)."""
        number, good = self._next_good()
        good_ids = {cbor2.loads(m)["msg_id"] for _, m in good}
        now = datetime.now(UTC)
        outgoing: list[tuple[str, bytes]] = []
        expected: list[tuple[hs.Sent, str | None]] = []
        for van_batch in hostile:
            for sent in van_batch:
                reason = hs.verdict(sent, now)
                expected.append((sent, reason))
                self._expect(sent, reason)
                outgoing.append((sent.topic, sent.payload))
        # The good van's messages in the middle and at the end of the hostile traffic.
        half = len(outgoing) // 2
        outgoing = outgoing[:half] + good[:1] + outgoing[half:] + good[1:]
        self.good_sent += len(good)
        for topic, payload in outgoing:
            self.client.publish(topic, payload, qos=1).wait_for_publish(10)
        problems: list[str] = []
        try:
            wait_until(lambda: (self.store.request(number) is not None and good_ids <= self.acks[GOOD])
                       or not self.alive(), timeout, "the good van's request stored and acked")
        except AssertionError as exc:
            problems.append(f"{exc}: stored={self.store.request(number) is not None}, "
                            f"acked {len(good_ids & self.acks[GOOD])} of {len(good_ids)}")
        if not self.alive():
            problems.append(f"the ingest exited ({self.proc.returncode}): {self.log.read_text()[-3000:]}")
            return problems
        stored = {m for (m,) in self.store._read("SELECT msg_id FROM messages WHERE van = ?", [GOOD])}
        if not good_ids <= stored:
            problems.append(f"good van's messages not stored: {sorted(good_ids - stored)}")
        if refused := {i: r for i, r in self.rejects[GOOD].items() if i in good_ids}:
            problems.append(f"good van's messages refused: {refused}")
        time.sleep(0.1)  # the hostile vans' acks of this batch
        problems += self.check_store()
        return problems

    def _expect(self, sent: hs.Sent, reason: str | None) -> None:
        self.sent[f"{sent.stream}/{sent.kind}/{sent.fault}"] += 1
        if reason is not None:
            self.refused[reason] += 1
            return
        self.stored[f"{sent.stream}/{sent.kind}"] += 1
        body, van = sent.body, sent.van
        self.admitted_any.add((van, sent.msg_id))
        if sent.stream in ("tx", "audit"):  # kept in the messages table, once per id: the first one counts
            body = _json(body)  # as the hub keeps it (no bytes in these streams)
            new = (van, sent.msg_id) not in self.admitted_ids
            self.admitted_ids.setdefault((van, sent.msg_id), body)
            if new and sent.kind == "request.submitted":
                self.admitted_numbers.setdefault(body["number"], body)
        elif sent.kind == "tel.snapshot":
            self.admitted_tel.add((van, body["at"], json.dumps(body["values"], sort_keys=True)))
        elif sent.kind == "tel.thumbnail":
            self.admitted_thumbs.add((van, body["camera"], body["jpeg"]))
        elif sent.kind == "doc.chunk":
            self.admitted_chunks.add((van, body["doc_id"], body["index"]))
        elif sent.stream == "status":
            self.admitted_sessions[van].add(body["session"])

    # --- the hub's database holds only what it should ---------------------------------------------------

    def check_store(self) -> list[str]:
        problems = []
        q = self.store._read
        marks = ",".join("?" * len(HOSTILE))
        for van, msg_id, body in q(f"SELECT van, msg_id, body FROM messages WHERE van IN ({marks})", HOSTILE):
            first = self.admitted_ids.get((van, msg_id), KeyError)
            if first is KeyError:
                problems.append(f"stored a message the hub should have refused: {van} {msg_id} {body[:300]}")
            elif json.loads(body) != first:
                problems.append(f"a replay changed message {van} {msg_id}: {body[:300]}")
        for van, number, body in q(f"SELECT van, number, body FROM requests WHERE van IN ({marks})", HOSTILE):
            first = self.admitted_numbers.get(number, KeyError)
            if first is KeyError:
                problems.append(f"stored a request the hub should have refused: {van} {number}")
            elif json.loads(body) != first:
                problems.append(f"request {number} does not hold the first admitted content: {body[:300]}")
        for van, at, values in q(f'SELECT van, at, "values" FROM telemetry_history WHERE van IN ({marks})', HOSTILE):
            if (van, at, json.dumps(json.loads(values), sort_keys=True)) not in self.admitted_tel:
                problems.append(f"stored a snapshot the hub should have refused: {van} {at} {values[:300]}")
        for van, telemetry, at, session in q(f"SELECT van, telemetry, telemetry_at, session FROM vans "
                                             f"WHERE van IN ({marks})", HOSTILE):
            if telemetry is not None and (van, at, json.dumps(json.loads(telemetry), sort_keys=True)) \
                    not in self.admitted_tel:
                problems.append(f"{van}'s latest telemetry is one the hub should have refused: {at} {telemetry[:300]}")
            if session and session not in self.admitted_sessions[van]:  # 0: never a birth or death
                problems.append(f"{van}'s session {session} comes from a refused status message")
        for van, camera, jpeg in q(f"SELECT van, camera, jpeg FROM thumbnails WHERE van IN ({marks})", HOSTILE):
            if (van, camera, bytes(jpeg)) not in self.admitted_thumbs:
                problems.append(f"stored a thumbnail the hub should have refused: {van} {camera}")
        for van, doc_id, idx in q(f"SELECT van, doc_id, idx FROM doc_chunks WHERE van IN ({marks})", HOSTILE):
            if (van, doc_id, idx) not in self.admitted_chunks:
                problems.append(f"stored a document chunk the hub should have refused: {van} {doc_id} {idx}")
        for table in ("parked_states", "request_conflicts"):
            for van, msg_id in q(f"SELECT van, msg_id FROM {table} WHERE van IN ({marks})", HOSTILE):
                if (van, msg_id) not in self.admitted_ids:
                    problems.append(f"{table} holds {van} {msg_id}, which the hub should have refused")
        for van in HOSTILE:
            if wrongly := {i for i in self.acks[van] if (van, i) not in self.admitted_any}:
                problems.append(f"{van} was acked for messages the hub should have refused: {sorted(wrongly)[:5]}")
        hub_errors = q("SELECT van, detail FROM quarantine WHERE reason = 'hub-error'")
        if hub_errors:
            problems.append(f"the hub failed on messages (hub-error): {hub_errors[:3]}")
        return problems

    # --- staff pages -------------------------------------------------------------------------------------

    def check_pages(self, extra: tuple[str, ...] = ()) -> list[str]:
        """Every staff page answers 200 within PAGE_MAX_S (logged in as admin, on the ingest's database)."""
        from governorate.web import create_app

        if not self.page_checks:
            add_staff(self.store)
        self.page_checks += 1
        app = create_app({"DB_PATH": str(self.db), "SECRET_KEY": b"k" * 32, "SENDER": offline_hub(self.store),
                          "GOVERNORATE": GOV, "TESTING": True})
        client = app.test_client()
        try:
            login(client, "admin")
        except (AssertionError, AttributeError) as exc:  # the sign-in or the page after it failed
            home = client.get("/")
            return [f"signing in failed ({type(exc).__name__}): / answered {home.status_code}: "
                    f"{home.get_data(as_text=True)[:800]}"]
        numbers = [n for (n,) in self.store._read(
            f"SELECT number FROM requests WHERE van IN ({','.join('?' * len(HOSTILE))}) LIMIT 5", HOSTILE)]
        problems = []
        for path in (*PAGES, *(f"/requests/{n}" for n in numbers), *extra):
            started = time.monotonic()
            try:
                response = client.get(path)
            except Exception:  # noqa: BLE001 - TESTING: the page's own exception, reported with its traceback
                problems.append(f"{path} failed: {traceback.format_exc()[-1500:]}")
                continue
            took = time.monotonic() - started
            self.page_max_s = max(self.page_max_s, took)
            if response.status_code != 200:
                problems.append(f"{path} answered {response.status_code}: {response.get_data(as_text=True)[:500]}")
            elif took > PAGE_MAX_S:
                problems.append(f"{path} took {took:.2f} s")
        return problems

    def figures(self) -> dict:
        by_kind = Counter()
        for key, n in self.sent.items():
            stream, kind, _ = key.split("/")
            by_kind[f"{stream}/{kind}"] += n
        faults = Counter()
        for key, n in self.sent.items():
            faults[key.split("/")[2]] += n
        return {"messages": sum(self.sent.values()), "messages_by_kind": dict(sorted(by_kind.items())),
                "messages_by_fault": dict(sorted(faults.items())),
                "refused_by_reason": dict(sorted(self.refused.items())),
                "stored": sum(self.stored.values()), "stored_by_kind": dict(sorted(self.stored.items())),
                "good_messages": self.good_sent, "ingest_restarts": self.restarts,
                "page_max_s": round(self.page_max_s, 3)}
