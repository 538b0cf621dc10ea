"""Where the running local system listens, recorded so every CLI command can find it."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

STATE_FILE = "local.json"


def state_dir() -> Path:
    """`.nurture/` in the working tree, unless NURTURE_STATE_DIR says otherwise."""
    return Path(os.environ.get("NURTURE_STATE_DIR", ".nurture"))


@dataclass(frozen=True)
class LocalState:
    gateway_url: str
    emulator_url: str
    region: str
    table_name: str
    signing_key_parameter: str
    config_dir: str
    pid: int

    def is_running(self) -> bool:
        """False for a record left behind by a system that did not stop cleanly."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def save(self) -> Path:
        folder = state_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / STATE_FILE
        path.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        return path

    @classmethod
    def load(cls) -> LocalState | None:
        path = state_dir() / STATE_FILE
        if not path.exists():
            return None
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except TypeError:  # written by an older version, which names other things: not a system this CLI can use
            return None

    @staticmethod
    def clear() -> None:
        (state_dir() / STATE_FILE).unlink(missing_ok=True)
