"""The field soak: a van's day on a bad LTE link with power cuts, end to end, with a report (docs/soak.md)."""
