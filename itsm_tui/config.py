"""Settings from the environment, with defaults fit for a single operator."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir


def data_dir() -> Path:
    """The folder for the embedded database and, in served mode, each operator's files."""
    return Path(os.environ.get("ITSM_DATA_DIR") or user_data_dir("itsm-tui", appauthor=False))


def default_db_url() -> str:
    """The embedded default: a SQLite file in the data directory."""
    return f"sqlite:///{data_dir() / 'itsm.db'}"


def resolve_db_url(cli_value: str | None) -> str:
    """``--db`` wins, then ``ITSM_DB``, then the embedded SQLite default."""
    return cli_value or os.environ.get("ITSM_DB") or default_db_url()


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"itsm-tui: error: {name} must be a whole number, got {raw!r}") from None


def _mode_env() -> str:
    raw = os.environ.get("ITSM_MODE") or "local"
    if raw not in ("local", "served"):
        raise SystemExit(f"itsm-tui: error: ITSM_MODE must be local or served, got {raw!r}")
    return raw


@dataclass(frozen=True)
class Settings:
    bcrypt_cost: int = 12
    lockout_threshold: int = 5
    lockout_minutes: int = 15
    attachment_max_bytes: int = 10 * 1024 * 1024
    # "local" (one person on their own machine) or "served" (a shared host reached over SSH:
    # dialogs confined to the operator's own folder, no way out to a shell).
    mode: str = "local"
    idle_lock_minutes: int = 15

    @property
    def served(self) -> bool:
        return self.mode == "served"

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            bcrypt_cost=_int_env("ITSM_BCRYPT_COST", cls.bcrypt_cost),
            lockout_threshold=_int_env("ITSM_LOCKOUT_THRESHOLD", cls.lockout_threshold),
            lockout_minutes=_int_env("ITSM_LOCKOUT_MINUTES", cls.lockout_minutes),
            attachment_max_bytes=_int_env("ITSM_ATTACHMENT_MAX_BYTES", cls.attachment_max_bytes),
            mode=_mode_env(),
            idle_lock_minutes=_int_env("ITSM_IDLE_LOCK_MINUTES", cls.idle_lock_minutes),
        )


_settings: Settings | None = None


def settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def override_settings(new: Settings | None) -> None:
    """Replace the process-wide settings (tests, or a CLI flag); None re-reads the environment."""
    global _settings
    _settings = new
