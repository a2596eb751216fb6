"""The van's domain in pure Python: no I/O, no Flask, no MQTT."""
