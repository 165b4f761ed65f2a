"""Locale choice, translation catalogues and the formatting helpers templates call.

Wording and formatting are chosen separately on purpose: a Canadian customer
(``fr_CA``) reads the French catalogue but sees amounts and dates formatted the
Canadian way, because Babel formats with the full locale while catalogues exist
per language only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from datetime import date as date_type
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time, get_datetime_format
from babel.numbers import (
    format_currency,
    format_decimal,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_quantum,
    get_decimal_symbol,
    get_group_symbol,
)

from tidings.core.events import Address

__all__ = [
    "Formatter",
    "available_locales",
    "catalogue",
    "formatter",
    "money_format",
    "resolve_locale",
]

_Key = TypeVar("_Key")

LOCALES_DIR = Path(__file__).parent / "locales"
FALLBACK = "en"


@cache
def _catalogue_languages() -> frozenset[str]:
    return frozenset({FALLBACK, *(p.stem for p in LOCALES_DIR.glob("*.json"))})


def available_locales() -> list[str]:
    """Languages with a translation catalogue, English (the msgids themselves) first."""
    return [FALLBACK, *sorted(_catalogue_languages() - {FALLBACK})]


@cache
def catalogue(language: str) -> dict[str, str]:
    """English msgid → translation; English itself is the identity (an empty mapping)."""
    if language == FALLBACK:
        return {}
    data = json.loads((LOCALES_DIR / f"{language}.json").read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ValueError(f"locales/{language}.json must map strings to strings")
    return data


def _parse(candidate: str | None) -> Locale | None:
    """Accept ``fr``, ``fr_FR``, ``fr-FR``, ``de_DE.UTF-8``; anything else is skipped."""
    if not candidate or not isinstance(candidate, str):
        return None
    ident = candidate.strip().split(".", 1)[0].split("@", 1)[0].replace("-", "_")
    if not ident or ident.upper() in ("C", "POSIX"):
        return None
    try:
        return Locale.parse(ident)
    except (UnknownLocaleError, ValueError, TypeError):
        return None


@lru_cache(maxsize=512)
def _resolve(candidates: tuple[str | None, ...]) -> tuple[Locale, str]:
    for candidate in candidates:
        loc = _parse(candidate)
        if loc is not None and loc.language in _catalogue_languages():
            return loc, loc.language
    return Locale.parse(FALLBACK), FALLBACK


def resolve_locale(candidates: Sequence[str | None]) -> tuple[Locale, str]:
    """The first candidate whose language has a catalogue: (Babel locale, catalogue language)."""
    return _resolve(tuple(c if isinstance(c, str) else None for c in candidates))


class _Memo(dict[_Key, str]):
    """Recent results of a formatting function (``memo[key]``), forgotten all at once when full.

    Each message formats its values twice (HTML and text part), and the same
    prices and dates recur across mails about one order, while Babel takes
    ~7 µs for a date; the size bounds memory. A dict subclass so that a hit
    costs no Python call.
    """

    __slots__ = ("_make", "_size")

    def __init__(self, make: Callable[[_Key], str], size: int) -> None:
        super().__init__()
        self._make = make
        self._size = size

    def __missing__(self, key: _Key) -> str:
        if len(self) >= self._size:
            self.clear()
        result = self[key] = self._make(key)
        return result


# -- money ---------------------------------------------------------------------------------


class _MoneyFormat:
    """``format_currency`` for one (locale, currency), with the pattern work done once.

    Babel re-derives symbols, precision and the plural-dependent currency name on
    every call (about 20 µs); an order mail formats a dozen amounts twice (HTML and
    text), which alone would blow the per-message budget. This applies the same
    CLDR pattern with everything precomputed, and defers to Babel for exotic
    patterns. A test compares it with Babel across every locale.
    """

    def __init__(self, locale: Locale, currency: str) -> None:
        self.locale = locale
        self.currency = currency
        pattern = locale.currency_formats["standard"]
        self.exotic = (
            "¤¤¤" in pattern.pattern or "@" in pattern.pattern
            or bool(pattern.exp_prec) or pattern.scale != 0
        )
        symbol = get_currency_symbol(currency, locale)

        def affix(text: str) -> str:
            text = text.replace("¤¤", currency).replace("¤", symbol)
            return re.sub(r"'([^']*)'", lambda m: m.group(1) or "'", text)

        self.prefix = (affix(pattern.prefix[0]), affix(pattern.prefix[1]))
        self.suffix = (affix(pattern.suffix[0]), affix(pattern.suffix[1]))
        self.digits = get_currency_precision(currency)
        self.quantum = get_decimal_quantum(self.digits)
        self.min_int = pattern.int_prec[0]
        self.grouping = pattern.grouping
        self.group = get_group_symbol(locale)
        self.decimal = get_decimal_symbol(locale)

    def __call__(self, amount: Decimal) -> str:
        if self.exotic or not amount.is_finite():
            return format_currency(amount, self.currency, locale=self.locale)
        negative = int(amount.is_signed())
        whole, _, frac = f"{abs(amount).normalize().quantize(self.quantum):f}".partition(".")
        if len(whole) < self.min_int:
            whole = "0" * (self.min_int - len(whole)) + whole
        size, grouped = self.grouping[0], ""
        while len(whole) > size:
            grouped = self.group + whole[-size:] + grouped
            whole = whole[:-size]
            size = self.grouping[1]
        number = whole + grouped
        if self.digits:
            number += self.decimal + frac.ljust(self.digits, "0")
        return self.prefix[negative] + number + self.suffix[negative]


@lru_cache(maxsize=256)
def money_format(locale: Locale, currency: str) -> _MoneyFormat:
    return _MoneyFormat(locale, currency)


# -- the helpers a template sees -----------------------------------------------------------

# Template name → Formatter method.
_HELPERS = {"_": "gettext", "money": "money", "date": "date", "number": "number",
            "country": "country", "address_lines": "address_lines"}
HELPER_NAMES = frozenset(_HELPERS)


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(str(value))
    return Decimal(value)


class Formatter:
    """The locale-bound helpers put in every template context (``_``, ``money``, ``date``…).

    One instance per (locale, time zone, default currency) is reused across
    messages; its methods are what templates call.
    """

    def __init__(self, locale: Locale, language: str, tz: str, currency: str | None) -> None:
        self.locale = locale
        #: ``str(locale)``, e.g. ``"fr_CA"``, which Babel rebuilds on every call (3 µs).
        self.locale_name = str(locale)
        self.language = language
        self.tzinfo = ZoneInfo(tz)
        self.currency = currency
        self._messages = catalogue(language)
        self._money: dict[str, _Memo[Decimal]] = {}
        self._dates: _Memo[tuple[date_type, str, bool]] = _Memo(self._format_date, 256)
        self._territories: dict[str, str] = dict(locale.territories)
        #: The names this formatter adds to every template context.
        self.helpers: dict[str, Callable[..., Any]] = {
            name: getattr(self, method) for name, method in _HELPERS.items()}

    def gettext(self, msgid: str, **values: Any) -> str:
        """Translate ``msgid``, then fill its ``{named}`` placeholders."""
        text = self._messages.get(msgid, msgid)
        if not values:
            return text
        try:
            return text.format(**values)
        except KeyError as exc:
            raise ValueError(
                f"the text {msgid!r} uses the placeholder {{{exc.args[0]}}} but _() was not "
                f"given {exc.args[0]}=…"
            ) from None
        except (IndexError, ValueError) as exc:
            raise ValueError(f"the text {msgid!r} is not a valid format string ({exc})") from None

    def money(self, amount: Any, currency: str | None = None) -> str:
        """Format an amount in ``currency``, by default the order's; ``None`` gives ''."""
        if amount is None:
            return ""
        code = currency or self.currency
        fmt = self._money.get(code) if code else None
        if fmt is None:
            if not code:
                raise ValueError("money() needs a currency: there is no order to take it from")
            fmt = self._money[code] = _Memo(money_format(self.locale, code.upper()), 1024)
        value = amount if type(amount) is Decimal else _to_decimal(amount)
        # -0 equals 0 as a memo key; whichever came first would win. Shown as 0 either way.
        return fmt[value if value else abs(value)]

    def date(self, value: Any, format: str = "medium", *, time: bool = True) -> str:
        """A date or datetime in the store's time zone; ``time=False`` drops the time of day.

        ``format`` is ``short``, ``medium``, ``long``, ``full`` (times then show
        hours and minutes only) or a CLDR pattern such as ``"d MMM y, HH:mm"``.
        """
        if value is None:
            return ""
        if isinstance(value, datetime):
            # Remembered by UTC instant: equal wall times may be different instants (DST).
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
        elif not isinstance(value, date_type):
            raise ValueError(f"date() needs a date or datetime, not {type(value).__name__}")
        return self._dates[value, format, time]

    def _format_date(self, key: tuple[date_type, str, bool]) -> str:
        value, format, time = key
        if isinstance(value, datetime):
            local = value.astimezone(self.tzinfo)
            if not time:
                return format_date(local.date(), format, locale=self.locale)
            named = _NAMED_FORMATS.get(format)
            if named is not None:
                # Babel's named datetime formats show seconds ("10:26:00 AM"), which
                # no mail needs; combine the named date with the short time instead.
                glue = str(get_datetime_format(named, locale=self.locale))
                return (
                    glue.replace("'", "")
                    .replace("{0}", format_time(local, "short", locale=self.locale))
                    .replace("{1}", format_date(local.date(), named, locale=self.locale))
                )
            return format_datetime(local, format, tzinfo=self.tzinfo, locale=self.locale)
        return format_date(value, format, locale=self.locale)

    def number(self, value: Any) -> str:
        """A number with the locale's separators; ``None`` gives ''."""
        if value is None:
            return ""
        return format_decimal(value, locale=self.locale)

    def country(self, code: str | None) -> str:
        """The country's name in the mail's language, e.g. ``DE`` → ``Allemagne``."""
        if not code:
            return ""
        return self._territories.get(code.upper(), code)

    def address_lines(self, address: Address | None) -> list[str]:
        """An address as display lines, in the order the country's post expects."""
        if address is None:
            return []
        a = address
        country = (a.country or "").upper()
        locality: list[str | None]
        if country in _CITY_STATE_POSTCODE:
            tail = " ".join(p for p in (a.state, a.postcode) if p)
            locality = [", ".join(p for p in (a.city, tail) if p)]
        elif country in _CITY_THEN_POSTCODE:
            locality = [a.city, a.state, a.postcode]
        else:
            locality = [" ".join(p for p in (a.postcode, a.city) if p), a.state]
        lines = [a.name, a.company, a.line1, a.line2, *locality, self.country(a.country)]
        return [line for line in lines if line]


_Named = Literal["full", "long", "medium", "short"]
_NAMED_FORMATS: dict[str, _Named] = {
    "full": "full", "long": "long", "medium": "medium", "short": "short"
}
_CITY_STATE_POSTCODE = frozenset({"US", "CA", "AU"})
_CITY_THEN_POSTCODE = frozenset({"GB", "IE"})


@lru_cache(maxsize=512)
def formatter(locale: Locale, language: str, tz: str, currency: str | None) -> Formatter:
    return Formatter(locale, language, tz, currency)
