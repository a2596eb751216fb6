"""The governorate broker's Mosquitto configuration: TLS only, client certificates, one identity per van.

What Mosquitto 2.0.11 enforces was measured on a real broker (docs/provisioning.md, "Who may do what");
the configuration uses exactly the mechanisms that held:

- **Two listeners, two trust anchors.** The vans' listener trusts the governorate CA, which signs every
  van's MQTT certificate. The hub's listener trusts only the hub CA, which signs nothing but the hub's
  certificate: a van's certificate fails the TLS handshake there.
- **Client id = certificate.** On the vans' listener ``use_identity_as_username`` makes the username the
  certificate's CN (the van id) and ``use_username_as_clientid`` replaces whatever client id the van sent
  with that username. A van can therefore never take another van's session or one of the hub's client
  ids (``hub-21-…``, which the hub's several ingest workers need to be distinct and persistent: they
  keep the client ids they choose, on the hub's listener).
- **Who may publish, subscribe and receive what: the dynamic-security plugin**, from
  ``dynamic-security.json``: deny by default; per van one client (username = van id) with one role
  naming its own topics literally (Mosquitto 2.0.11 does not substitute ``%u`` or ``%c`` in
  dynamic-security ACLs); the hub one client and one role. Unlike the ACL file, the plugin checks
  subscriptions: ``$share/hub/…``, ``#`` or another van's topics get SUBACK "Not authorized", so a van
  can no longer join the hub's shared subscription and make the broker drop other vans' messages.
  The file is derived from the CA's index (``pki.Authority.save``): every van with a valid MQTT
  certificate. Mosquitto reads it only when it starts (a reload does not re-read it).

The plugin's client-id binding (``clientid`` of a client) is *not* used: it lives in the plugin's
username/password check, which Mosquitto skips when the username comes from the certificate.
"""

from __future__ import annotations

import json

from provisioning.checks import HUB_CN, check_governorate, check_van

# Debian's mosquitto finds its plugin by name in the architecture's library folder (amd64 or arm64 alike).
DYNSEC_PLUGIN = "mosquitto_dynamic_security.so"
DYNSEC_FILE = "dynamic-security.json"


def _acl(kind: str, topic: str) -> dict:
    return {"acltype": kind, "topic": topic, "allow": True}


def hub_role(gov: str) -> dict:
    """The hub: its ingest workers share one subscription to every up (plus a plain one to the retained
    ``up/status``, which shared subscriptions never deliver); the dashboard and ingest publish every down."""
    up = f"mtc/v1/{gov}/+/up/#"
    return {"rolename": HUB_CN, "acls": [
        _acl("subscribePattern", f"$share/hub/{up}"),
        _acl("subscribePattern", up),
        _acl("publishClientReceive", up),
        _acl("publishClientSend", f"mtc/v1/{gov}/+/down/#"),
    ]}


def van_role(gov: str, van: str) -> dict:
    """One van: publish under its own up/, subscribe to and receive its own down/, nothing else."""
    check_van(van)
    return {"rolename": f"van-{van}", "acls": [
        _acl("publishClientSend", f"mtc/v1/{gov}/{van}/up/#"),
        _acl("subscribePattern", f"mtc/v1/{gov}/{van}/down/#"),
        _acl("publishClientReceive", f"mtc/v1/{gov}/{van}/down/#"),
    ]}


def dynamic_security(gov: str, vans: list[str]) -> dict:
    """The dynamic-security plugin's configuration: the hub and ``vans``, everything else refused.

    No client has a password (the certificate is the credential) and no role grants
    ``$CONTROL/dynamic-security/#``, so nobody can change this at run time over MQTT either.
    """
    check_governorate(gov)
    vans = sorted(set(vans))
    return {
        "defaultACLAccess": {"publishClientSend": False, "publishClientReceive": False, "subscribe": False,
                             "unsubscribe": True},
        "clients": [{"username": HUB_CN, "textname": f"hub of governorate {gov}",
                     "roles": [{"rolename": HUB_CN}]}]
                   + [{"username": v, "textname": f"van {v}", "roles": [{"rolename": f"van-{v}"}]} for v in vans],
        "groups": [],
        "roles": [hub_role(gov)] + [van_role(gov, v) for v in vans],
    }


def dynamic_security_json(gov: str, vans: list[str]) -> bytes:
    return (json.dumps(dynamic_security(gov, vans), indent=1) + "\n").encode()


def mosquitto_conf(*, port: int, hub_port: int, bind: str | None, broker_dir: str, persistence_dir: str) -> str:
    d = broker_dir.rstrip("/")

    def listener(p: int) -> str:
        return f"listener {p} {bind}" if bind else f"listener {p}"

    tls = (f"certfile {d}/server-cert.pem\n"
           f"keyfile {d}/server-key.pem\n"
           "tls_version tlsv1.2\n"
           "require_certificate true\n"
           "use_identity_as_username true\n")
    return (
        "# Governorate broker, written by `provision governorate init` (docs/provisioning.md).\n"
        "# Include it from /etc/mosquitto/mosquitto.conf or start mosquitto with -c on this file.\n"
        "per_listener_settings false\n"
        "allow_anonymous false\n"
        "# Who may publish, subscribe and receive what: one client per van, one for the hub, the rest\n"
        f"# refused. Read at start only: restart mosquitto after copying a new {DYNSEC_FILE}.\n"
        f"plugin {DYNSEC_PLUGIN}\n"
        f"plugin_opt_config_file {d}/{DYNSEC_FILE}\n"
        "\n"
        "# Outages queue thousands of messages per van: the default cap (1000) silently drops the rest.\n"
        "max_queued_messages 0\n"
        "max_inflight_messages 0\n"
        "persistence true\n"
        f"persistence_location {persistence_dir.rstrip('/')}/\n"
        "autosave_interval 60\n"
        "\n"
        "# TLS only: there is no plain listener.\n"
        "# The vans: certificates of the governorate CA. The username is the certificate's CN (the van\n"
        "# id) and so is the client id, whatever the van sends: no van can take another's session or the hub's.\n"
        f"{listener(port)}\n"
        f"cafile {d}/ca.pem\n"
        f"{tls}"
        "use_username_as_clientid true\n"
        "# Revoked vans (provision van revoke); re-read on reload (SIGHUP). Must never expire:\n"
        "# run `provision governorate crl` monthly.\n"
        f"crlfile {d}/crl.pem\n"
        "\n"
        "# The hub: only the hub CA's certificate (CN hub), which no van holds. Its ingest workers keep the\n"
        "# client ids they choose (hub-GOV-WORKER, persistent sessions sharing one subscription).\n"
        f"{listener(hub_port)}\n"
        f"cafile {d}/hub-ca.pem\n"
        f"{tls}"
    )
