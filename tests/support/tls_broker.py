"""A real Mosquitto started with a governorate's generated TLS config, and paho clients that report what happened."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.support.mqtt_broker import start_mosquitto, stop_process


def wait_for(predicate, timeout: float = 5.0) -> bool:
    """True once ``predicate()`` holds, polled every 50 ms for at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


class TlsBroker:
    """Mosquitto on the generated ``mosquitto.conf`` exactly, plus one line when the tests run as root.

    Started as root, Mosquitto drops to the ``mosquitto`` user before reading the keys; on a broker
    host the admin makes server-key.pem readable by that user (docs/provisioning.md). Here the keys
    live in a root-owned temporary folder, so the test keeps root instead.
    """

    def __init__(self, conf: Path, port: int):
        self.conf = Path(conf)
        self.port = port
        self.proc: subprocess.Popen | None = None
        self.run_conf = self.conf.with_name("mosquitto-test.conf")
        text = self.conf.read_text()
        if os.geteuid() == 0:
            text += "user root\n"
        self.run_conf.write_text(text)

    def start(self) -> TlsBroker:
        # Mosquitto opens its listeners one after the other: wait for the others (the hub's) as well.
        others = [int(line.split()[1]) for line in self.run_conf.read_text().splitlines()
                  if line.startswith("listener ") and int(line.split()[1]) != self.port]
        self.proc = start_mosquitto(self.run_conf, self.port, *others)
        return self

    def restart(self) -> None:
        """What `systemctl restart mosquitto` does (the dynamic-security file is read only at start)."""
        self.stop()
        self.start()

    def reload(self) -> None:
        """What `systemctl reload mosquitto` does: SIGHUP, which re-reads the CRL and the ACL."""
        self.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None


class Client:
    """A paho MQTT v5 client over TLS that records CONNACK, PUBACK and SUBACK reason codes, disconnections
    and received topics.

    ``session_expiry``: connect as the hub's ingest workers do (clean_start=False, a session that outlives
    the connection by that many seconds).
    """

    def __init__(self, port: int, ca: Path, client_id: str, cert: Path | None = None, key: Path | None = None,
                 session_expiry: int | None = None):
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.session_expiry = session_expiry
        self.client.tls_set(ca_certs=str(ca), certfile=str(cert) if cert else None,
                            keyfile=str(key) if key else None)
        self.port = port
        self.connack: str | None = None
        self.acks: dict[int, str] = {}
        self.received: list[tuple[str, bytes]] = []
        self.subacks: dict[int, list[str]] = {}
        self.disconnects: list[str] = []  # reason of every disconnection the broker or the network caused
        self._lock = threading.Lock()
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect
        self.error: str | None = None

    def _on_connect(self, client, userdata, flags, reason, props):
        self.connack = str(reason)

    def _on_publish(self, client, userdata, mid, reason, props):
        with self._lock:
            self.acks[mid] = str(reason)

    def _on_message(self, client, userdata, message):
        with self._lock:
            self.received.append((message.topic, message.payload))

    def _on_subscribe(self, client, userdata, mid, reasons, props):
        with self._lock:
            self.subacks[mid] = [str(r) for r in reasons]

    def _on_disconnect(self, client, userdata, flags, reason, props):
        with self._lock:
            self.disconnects.append(str(reason))

    def connect(self, timeout: float = 5.0) -> bool:
        """True once the broker accepted the connection (CONNACK success)."""
        options: dict = {}
        if self.session_expiry is not None:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = self.session_expiry
            options = {"clean_start": False, "properties": props}
        try:
            self.client.connect("127.0.0.1", self.port, **options)
        except OSError as exc:  # TLS handshake refused: no or a revoked certificate
            self.error = repr(exc)
            return False
        self.client.loop_start()
        deadline = time.monotonic() + timeout
        while self.connack is None and not self.disconnects and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.connack == "Success"

    def subscribe(self, topic: str, timeout: float = 5.0) -> list[str]:
        """Subscribe at QoS 1 and return the SUBACK's reasons (["Granted QoS 1"], ["Not authorized"], …).

        Waiting for the SUBACK also means the subscription is in place before anything is published.
        """
        mid = self.client.subscribe(topic, qos=1)[1]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if mid in self.subacks:
                    return self.subacks[mid]
            time.sleep(0.02)
        return ["no SUBACK"]

    def publish(self, topic: str, payload: bytes, timeout: float = 5.0) -> str:
        """Publish at QoS 1 and return the PUBACK's reason ("Success", "Not authorized", …)."""
        mid = self.client.publish(topic, payload, qos=1).mid
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if mid in self.acks:
                    return self.acks[mid]
            time.sleep(0.02)
        return "no PUBACK"

    def topics(self) -> list[str]:
        with self._lock:
            return [t for t, _ in self.received]

    def close(self) -> None:
        """Disconnect; a persistent session ends with it (else the broker would queue for it)."""
        props = None
        if self.session_expiry:
            props = Properties(PacketTypes.DISCONNECT)
            props.SessionExpiryInterval = 0
        self.client.disconnect(properties=props)
        self.client.loop_stop()
