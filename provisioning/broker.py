"""The governorate broker's Mosquitto configuration and ACL: TLS only, client certificates, one van one topic tree.

Identity: with ``use_identity_as_username`` Mosquitto takes the MQTT username from the client
certificate's CN. A van's MQTT certificate has CN = its van id (``V007``), so the ACL's ``%u`` is the
van id and one pair of ``pattern`` lines covers every van. The governorate is written into the
patterns (each governorate has its own broker and CA), so a van of another governorate — whose
certificate this broker's CA did not sign anyway — could not use them either. The hub's CN is
``hub``: not a van id, so no van pattern gives it anything, and its own ``user`` block lets it read
every up and write every down of the governorate.
"""

from __future__ import annotations

from provisioning import pki


def acl(gov: str) -> str:
    pki.check_governorate(gov)
    return (
        f"# Mosquitto ACL of governorate {gov}, written by `provision governorate init`.\n"
        "# Usernames are certificate CNs (use_identity_as_username): a van id such as V007, or 'hub'.\n"
        "# Anything not allowed here is refused: a van's publish elsewhere is dropped (MQTT 5: PUBACK\n"
        "# 'Not authorized'), its subscription elsewhere is refused or receives nothing.\n"
        "\n"
        "# Every van: publish only under its own up/, read only its own down/.\n"
        f"pattern write mtc/v1/{gov}/%u/up/#\n"
        f"pattern read mtc/v1/{gov}/%u/down/#\n"
        "\n"
        "# The hub (ingest workers share one subscription; the dashboard sends downlinks).\n"
        f"user {pki.HUB_CN}\n"
        f"topic read mtc/v1/{gov}/+/up/#\n"
        f"topic write mtc/v1/{gov}/+/down/#\n"
    )


def mosquitto_conf(*, port: int, bind: str | None, broker_dir: str, persistence_dir: str) -> str:
    d = broker_dir.rstrip("/")
    listener = f"listener {port} {bind}" if bind else f"listener {port}"
    return (
        "# Governorate broker, written by `provision governorate init` (docs/provisioning.md).\n"
        "# Include it from /etc/mosquitto/mosquitto.conf or start mosquitto with -c on this file.\n"
        "per_listener_settings false\n"
        "allow_anonymous false\n"
        f"acl_file {d}/acl\n"
        "\n"
        "# Outages queue thousands of messages per van: the default cap (1000) silently drops the rest.\n"
        "max_queued_messages 0\n"
        "max_inflight_messages 0\n"
        "persistence true\n"
        f"persistence_location {persistence_dir.rstrip('/')}/\n"
        "autosave_interval 60\n"
        "\n"
        "# TLS only: there is no plain listener. Every client shows a certificate of this CA.\n"
        f"{listener}\n"
        f"cafile {d}/ca.pem\n"
        f"certfile {d}/server-cert.pem\n"
        f"keyfile {d}/server-key.pem\n"
        "tls_version tlsv1.2\n"
        "require_certificate true\n"
        "use_identity_as_username true\n"
        "# Revoked vans (provision van revoke); re-read on reload (SIGHUP). Must never expire:\n"
        "# run `provision governorate crl` monthly.\n"
        f"crlfile {d}/crl.pem\n"
    )
