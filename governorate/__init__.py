"""The governorate hub: ingest and acknowledge van messages, monitor vans, back office."""
