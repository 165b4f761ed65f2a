"""The hub's settings: one TOML file, overridable from the environment.

Precedence, highest first: ``TIDINGS_…`` environment variables (nested keys
joined by ``__``, e.g. ``TIDINGS_TRANSPORTS__MAIN__PASSWORD``), then the file.
Any string in the file may be ``"${NAME}"`` to take a secret from the
environment instead of writing it down.

Validation never stops at the first problem: :func:`load_settings` collects
every problem (TOML syntax, unknown or missing keys, bad values, dangling
references, plugin options) and raises one :class:`ConfigError` listing them
all, each with its key path and a plain-English reason.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from tidings.core.errors import ConfigError, ConfigProblem

__all__ = [
    "ApiSettings",
    "Branding",
    "DeliverySettings",
    "InboxSettings",
    "MailAddress",
    "ServerSettings",
    "Settings",
    "StorageSettings",
    "StoreConfig",
    "TransportConfig",
    "describe_errors",
    "load_settings",
]

DEFAULT_CONFIG_PATH = Path("tidings.toml")
_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_ID = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    public_url: str | None = Field(
        default=None, description="The address shops and people reach the hub at."
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024)


class StorageSettings(_Section):
    path: Path = Path("var/tidings.db")


class ApiSettings(_Section):
    keys: list[SecretStr] = Field(default_factory=list)

    @field_validator("keys")
    @classmethod
    def _long_enough(cls, keys: list[SecretStr]) -> list[SecretStr]:
        for key in keys:
            if len(key.get_secret_value()) < 16:
                raise ValueError("every API key must be at least 16 characters long")
        return keys


class DeliverySettings(_Section):
    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff_base: float = Field(default=30.0, gt=0, description="Seconds before the first retry.")
    backoff_max: float = Field(default=6 * 3600.0, gt=0)
    lease_seconds: float = Field(default=120.0, gt=0)
    concurrency: int = Field(default=10, ge=1, le=500)
    processes: int = Field(
        default=1, ge=1, le=64, description="Processes that deliver (render and send). Above 1, "
        "`tidings serve` starts the extra ones, so delivery uses more than one core; rate "
        "limits are split between them.")
    poll_interval: float = Field(default=0.25, gt=0)
    message_id_domain: str | None = Field(
        default=None, description="Domain for Message-ID headers; defaults to the From domain."
    )


class InboxSettings(_Section):
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=2525, ge=0, le=65535)
    keep: int = Field(default=500, ge=1, le=100_000)


class MailAddress(BaseModel):
    """A mailbox as written in the file: ``"Shop <shop@example.com>"`` or a bare address."""

    model_config = ConfigDict(frozen=True)
    email: str
    name: str | None = None

    @classmethod
    def parse(cls, value: object) -> MailAddress:
        if isinstance(value, MailAddress):
            return value
        if not isinstance(value, str):
            raise ValueError("must be a string like 'Shop <shop@example.com>'")
        name, addr = parseaddr(value)
        try:
            addr = validate_email(addr, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValueError(f"{value!r} is not a valid email address ({exc})") from None
        return cls(email=addr, name=name or None)

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


class Branding(_Section):
    logo_url: str | None = None
    colour: str = Field(default="#2f6f5e", pattern=r"^#[0-9a-fA-F]{6}$")
    address: str | None = Field(default=None, description="Shop address for the footer.")


class TransportConfig(BaseModel):
    """A transport's settings; everything but ``type`` is checked by the transport's own model."""

    model_config = ConfigDict(extra="allow")
    type: str


class StoreConfig(_Section):
    platform: str
    name: str
    from_: MailAddress = Field(alias="from")
    reply_to: MailAddress | None = None
    admin_email: MailAddress | None = None
    transport: str | list[str] = "main"
    locale: str = "en"
    timezone: str = "UTC"
    url: str | None = Field(default=None, description="The shop's own address, for links.")
    templates_dir: Path | None = None
    branding: Branding = Field(default_factory=Branding)
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("from_", "reply_to", "admin_email", mode="before")
    @classmethod
    def _parse_address(cls, value: object) -> MailAddress | None:
        return None if value is None else MailAddress.parse(value)

    @field_validator("transport")
    @classmethod
    def _non_empty(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and not value:
            raise ValueError("must name at least one transport")
        return value

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        from babel import Locale, UnknownLocaleError

        try:
            Locale.parse(value.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            raise ValueError(
                f"{value!r} is not a locale Tidings knows (try 'en' or 'fr_FR')") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone name like 'Europe/Paris'") from None
        return value

    @property
    def transports(self) -> list[str]:
        """The failover order."""
        return [self.transport] if isinstance(self.transport, str) else list(self.transport)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TIDINGS_", env_nested_delimiter="__", extra="forbid", populate_by_name=True
    )

    server: ServerSettings = Field(default_factory=ServerSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    inbox: InboxSettings = Field(default_factory=InboxSettings)
    transports: dict[str, TransportConfig] = Field(default_factory=dict)
    stores: dict[str, StoreConfig] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file arrives as init kwargs (already parsed and ${}-resolved by
        # load_settings), so the environment must come first to win over it.
        return (env_settings, init_settings)


# -- plain-English error messages ---------------------------------------------------------

_REASONS: dict[str, str] = {
    "missing": "is required but missing",
    "extra_forbidden": "is not a known setting (check the spelling)",
    "string_type": "must be text",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "float_parsing": "must be a number",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a table of settings",
    "list_type": "must be a list",
}


def describe_errors(
    exc: ValidationError | Iterable[ErrorDetails], prefix: Iterable[str | int] = ()
) -> list[ConfigProblem]:
    """Turn pydantic's errors into problems with dotted key paths and plain reasons."""
    errors = exc.errors(include_url=False) if isinstance(exc, ValidationError) else exc
    return [_problem(err, tuple(prefix)) for err in errors]


def _problem(err: ErrorDetails, prefix: tuple[str | int, ...]) -> ConfigProblem:
    loc = [p for p in (*prefix, *err["loc"])
           if not (isinstance(p, str) and p.startswith("function-"))]
    path = ".".join("from" if p == "from_" else str(p) for p in loc) or "(top level)"
    reason = _REASONS.get(err["type"])
    if reason is None:
        reason = err["msg"].removeprefix("Value error, ")
        if err["type"] not in ("value_error", "assertion_error") and "input" in err:
            reason = f"{reason} (got {err['input']!r})"
    return ConfigProblem(path, reason)


# -- loading ---------------------------------------------------------------------------

OptionValidator = Callable[[str, Mapping[str, Any]], list[ConfigProblem]]
"""Checks one plugin-owned table (a store's options, a transport) and returns its problems."""


def read_file(path: Path) -> tuple[dict[str, Any], list[ConfigProblem]]:
    """Parse the TOML file and resolve ``${NAME}`` references; never raises."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, [ConfigProblem(str(path), "file not found (run 'tidings init' to write one)")]
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [ConfigProblem(str(path), f"cannot be read: {exc}")]
    except tomllib.TOMLDecodeError as exc:
        return {}, [ConfigProblem(str(path), f"is not valid TOML: {exc}")]
    problems: list[ConfigProblem] = []
    return _resolve_refs(raw, (), problems), problems


def _resolve_refs(value: Any, path: tuple[str, ...], problems: list[ConfigProblem]) -> Any:
    if isinstance(value, dict):
        return {k: _resolve_refs(v, (*path, k), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_refs(v, (*path, str(i)), problems) for i, v in enumerate(value)]
    if isinstance(value, str) and (m := _ENV_REF.match(value)):
        name = m.group(1)
        if name in os.environ:
            return os.environ[name]
        problems.append(
            ConfigProblem(".".join(path),
                          f"refers to the environment variable {name}, which is not set")
        )
    return value


def load_settings(
    path: Path,
    *,
    platforms: Mapping[str, OptionValidator] | None = None,
    transports: Mapping[str, OptionValidator] | None = None,
) -> Settings:
    """Read, resolve and validate; raise one :class:`ConfigError` listing every problem.

    ``platforms`` and ``transports`` map the names plugins registered to their
    validators, so a store's ``options`` and a transport's keys are checked by
    the plugin that owns them. ``None`` skips those checks (used before plugins load).
    """
    raw, problems = read_file(path)
    try:
        settings: Settings | None = Settings(**raw)
    except ValidationError as exc:
        problems.extend(describe_errors(exc))
        settings = None
    # References and plugin options are checked even when the structure is broken,
    # from the validated settings when there are some, else from the raw tables.
    if settings is not None:
        tables = {n: t.model_dump() for n, t in settings.transports.items()}
        stores = {sid: s.model_dump() for sid, s in settings.stores.items()}
    else:
        tables, stores = _tables(raw.get("transports")), _tables(raw.get("stores"))
    problems.extend(_cross_check(tables, stores, platforms, transports))
    if problems or settings is None:
        raise ConfigError(problems, str(path))
    return settings


def _tables(value: object) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(v, dict)}


def _cross_check(
    transport_tables: Mapping[str, Mapping[str, Any]],
    store_tables: Mapping[str, Mapping[str, Any]],
    platforms: Mapping[str, OptionValidator] | None,
    transports: Mapping[str, OptionValidator] | None,
) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    for name, table in transport_tables.items():
        if not re.match(_ID, name):
            problems.append(ConfigProblem(f"transports.{name}", "names use a-z, 0-9, '-' and '_'"))
        kind = table.get("type")
        if transports is not None and isinstance(kind, str):
            check = transports.get(kind)
            if check is None:
                known = ", ".join(sorted(transports)) or "none"
                problems.append(ConfigProblem(
                    f"transports.{name}.type",
                    f"no transport plugin provides {kind!r} (installed: {known})"))
            else:
                problems.extend(check(f"transports.{name}", table))
    for store_id, store in store_tables.items():
        if not re.match(_ID, store_id):
            problems.append(
                ConfigProblem(f"stores.{store_id}", "store ids use a-z, 0-9, '-' and '_'"))
        chain = store.get("transport", "main")
        names = [chain] if isinstance(chain, str) else chain if isinstance(chain, list) else []
        for i, tname in enumerate(names):
            if isinstance(tname, str) and tname not in transport_tables:
                where = "transport" if isinstance(chain, str) else f"transport.{i}"
                problems.append(ConfigProblem(
                    f"stores.{store_id}.{where}", f"names the transport {tname!r}, which is not "
                    f"defined under [transports.{tname}]"))
        folder = store.get("templates_dir")
        if folder is not None and not Path(str(folder)).is_dir():
            problems.append(ConfigProblem(
                f"stores.{store_id}.templates_dir", f"{folder} is not a folder"))
        platform, options = store.get("platform"), store.get("options", {})
        if platforms is not None and isinstance(platform, str) and isinstance(options, dict):
            check = platforms.get(platform)
            if check is None:
                known = ", ".join(sorted(platforms)) or "none"
                problems.append(ConfigProblem(
                    f"stores.{store_id}.platform",
                    f"no plugin provides the platform {platform!r} (installed: {known})"))
            else:
                problems.extend(check(f"stores.{store_id}.options", options))
    return problems
