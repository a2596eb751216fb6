"""The ``edge watch`` process: monitors for the van's cameras, GPS and modem that write device status rows."""
