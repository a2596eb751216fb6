"""The devices the van drives: one package per kind (printer, scanner, qr, cctv, gps, modem), each with a
simulated twin, behind one URL parser (``urls``), one twin registry (``twins``) and one opener table per
kind (``openers``, ``kinds``) that ``edge config check`` runs too. See docs/devices.md."""
