"""Provisioning: CA, van enrolment bundles, broker configuration, install on the mini-PC."""
