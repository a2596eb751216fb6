"""Signed over-the-air software updates on the van (docs/updates.md).

- ``fetch``   the seam a transport plugs into: where TUF metadata and release files come from
              (a local folder today; MQTT chunks or HTTPS later feed the same interface)
- ``verify``  python-tuf's ngclient checks a release against the root the van trusts, before anything
              is installed: unknown keys, rollback, freeze and tampered files are refused
- ``state``   the update's state, one JSON file under the van's data dir, written atomically
- ``install`` the verified release into its own virtualenv beside the running one, one atomic symlink
              rename to switch, a health check with a deadline, rollback with a recorded reason, and the
              recovery a restart runs after a power cut at any step

Layer: imports edge.core, edge.config and (later) edge.sync.chunks only — never provisioning.
"""
