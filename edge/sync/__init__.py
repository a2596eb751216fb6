"""The MQTT link between the van and its governorate: protocol, outbox drain, downlink."""
