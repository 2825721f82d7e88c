"""Monitoring payloads as the tools send them."""

from __future__ import annotations


def alertmanager(
    status: str, fingerprint: str = "c6f2d1a0b2e3f4a5", starts: str = "2026-12-06T09:00:00Z"
) -> dict:
    """Alertmanager's webhook body, version 4, with one alert."""
    alert = {
        "status": status,
        "labels": {"alertname": "DiskFull", "instance": "db1:9100", "severity": "critical"},
        "annotations": {"summary": "Disk almost full on db1", "description": "/var is 97% full"},
        "startsAt": starts,
        "endsAt": "2026-12-06T10:00:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=disk",
        "fingerprint": fingerprint,
    }
    return {
        "version": "4",
        "groupKey": '{}:{alertname="DiskFull"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "itsm-tui",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": alert["labels"],
        "commonAnnotations": alert["annotations"],
        "externalURL": "http://alertmanager:9093",
        "alerts": [alert],
    }
