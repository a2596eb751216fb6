"""Software for a mobile technological-centre van: devices, local web UI, store-and-forward."""

__version__ = "0.1.0"
