"""The van's local web UI (Flask): kiosk, operator console, now-serving display, API."""
