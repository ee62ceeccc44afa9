"""Kafka Connect REST API: apply, inspect and restart our connectors.

``apply`` uses ``PUT /connectors/{name}/config`` so re-applying the same file is a no-op
(Connect answers 200 and keeps the config; 201 means it was created).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from cdcbridge.errors import TransientError


class ConnectError(TransientError, RuntimeError):
    """Connect refused a request or is unreachable; the message carries its answer."""


@dataclass(frozen=True)
class ConnectorFile:
    name: str
    config: dict[str, str]

    @classmethod
    def load(cls, path: Path) -> ConnectorFile:
        doc = json.loads(path.read_text())
        return cls(name=doc["name"], config={k: str(v) for k, v in doc["config"].items()})


@dataclass(frozen=True)
class TaskState:
    task_id: int
    state: str
    trace: str | None


@dataclass(frozen=True)
class ConnectorState:
    name: str
    state: str
    tasks: list[TaskState]


class ConnectClient:
    def __init__(self, base_url: str, timeout_s: float = 10.0) -> None:
        self.__base = base_url.rstrip("/")
        self.__timeout = timeout_s

    def __call(self, method: str, path: str, body: Any = None) -> requests.Response:
        try:
            response = requests.request(method, f"{self.__base}{path}", json=body,
                                        timeout=self.__timeout)
        except requests.RequestException as exc:
            raise ConnectError(f"Kafka Connect at {self.__base} unreachable: {exc}") from exc
        if response.status_code >= 400:
            raise ConnectError(f"{method} {path} -> {response.status_code}: {response.text}")
        return response

    def apply(self, connector: ConnectorFile) -> bool:
        """Create or update; True when Connect created it now. Raises ConnectError."""
        response = self.__call("PUT", f"/connectors/{connector.name}/config", connector.config)
        return response.status_code == 201

    def validate(self, connector: ConnectorFile) -> list[str]:
        """Connect's own validation of the config; returns the error messages (empty: valid)."""
        cls = connector.config["connector.class"].rsplit(".", 1)[-1]
        doc = self.__call("PUT", f"/connector-plugins/{cls}/config/validate",
                          {**connector.config, "name": connector.name}).json()
        errors: list[str] = []
        for item in doc.get("configs", []):
            value = item.get("value") or {}
            errors.extend(f"{value.get('name')}: {e}" for e in value.get("errors", []))
        return errors

    def status(self, name: str) -> ConnectorState:
        doc = self.__call("GET", f"/connectors/{name}/status").json()
        tasks = [TaskState(t["id"], t["state"], t.get("trace")) for t in doc.get("tasks", [])]
        return ConnectorState(name=doc["name"], state=doc["connector"]["state"], tasks=tasks)

    def restart(self, name: str) -> None:
        self.__call("POST", f"/connectors/{name}/restart?includeTasks=true&onlyFailed=false")

    def delete(self, name: str) -> None:
        self.__call("DELETE", f"/connectors/{name}")

    def task_configs(self, name: str) -> list[dict[str, str]]:
        """The config each running task was started with (Connect's ``/tasks``): after a config
        update it shows the new values only once the tasks were reconfigured. Raises
        ConnectError."""
        doc = self.__call("GET", f"/connectors/{name}/tasks").json()
        return [dict(task.get("config") or {}) for task in doc]

    def names(self) -> list[str]:
        names: list[str] = self.__call("GET", "/connectors").json()
        return names
