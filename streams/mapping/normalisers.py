"""Normalisers named in the mapping files (``normalise: [trim, email, ...]``). Pure, no I/O.

A normaliser takes a non-null value and returns the normalised value (or ``None`` for
``empty_to_null``). It raises ``ValueError``/``TypeError`` for a value it cannot normalise; the
mapping layer names the field and the rule in the resulting ``InvalidRecord``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import phonenumbers

from streams.contracts import quote

Normaliser = Callable[[object], object]

# ISO 3166-1 alpha-2, officially assigned codes (249).
_ISO_3166_ALPHA2_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC
    EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK
    HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB
    LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
    NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU
    RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN
    TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"""
ISO_3166_ALPHA2 = frozenset(_ISO_3166_ALPHA2_CODES.split())

# An email address is ``local@domain``. Local part: dot-separated atoms of any characters but
# whitespace and ``@.()<>[]\,;:"``. Domain: labels of letters/digits with inner hyphens or
# underscores, then an alphabetic top-level label, in Unicode or in its IDNA (punycode) form
# ``xn--…`` (``info@пример.рф`` and ``info@xn--e1afmkfd.xn--p1ai`` both pass). (As one regex,
# ``EMAIL_PATTERN``; ``email`` checks the same with set and string operations plus a cache of
# checked domains, ~3x cheaper on the mapping hot path. Possessive quantifiers are avoided:
# before 3.11.5 or so they mis-match nested groups.)
_ATOM = r"[^@\s.()<>\[\]\\,;:\"]+"
_EMAIL_DOMAIN_PATTERN = (
    r"(?:[^\W_]+(?:[-_]+[^\W_]+)*\.)+(?:[^\W\d_]{2,}|xn--[a-z0-9]+(?:-[a-z0-9]+)*)"
)
EMAIL_PATTERN = rf"{_ATOM}(?:\.{_ATOM})*@{_EMAIL_DOMAIN_PATTERN}"
_EMAIL_DOMAIN = re.compile(_EMAIL_DOMAIN_PATTERN)
# Characters an atom may not hold: ``@``, the specials and every character regex ``\s``
# matches (all of them are in the BMP).
_NOT_IN_ATOMS = frozenset('@()<>[]\\,;:"') | frozenset(
    re.findall(r"\s", "".join(map(chr, range(0x10000))))
)
_CHECKED_DOMAINS: dict[str, bool] = {}  # domain -> valid; starts over at 4096 entries
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_DROP_SEPARATORS = str.maketrans("", "", " \t\u00a0().-/")
_ASCII_SEPARATORS = b" \t().-/"  # the same for ASCII text (bytes.translate is much faster)
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def trim(value: object) -> object:
    if isinstance(value, str):
        return value.strip()
    raise TypeError(f"expected a string, got {type(value).__name__}")


def lower(value: object) -> object:
    if isinstance(value, str):
        return value.lower()
    raise TypeError(f"expected a string, got {type(value).__name__}")


def upper(value: object) -> object:
    if isinstance(value, str):
        return value.upper()
    raise TypeError(f"expected a string, got {type(value).__name__}")


def empty_to_null(value: object) -> object:
    return None if value == "" else value


def email(value: object) -> object:
    """Trimmed, lower-cased, shaped like ``local@domain.tld`` (``EMAIL_PATTERN``)."""
    if not isinstance(value, str):  # _text(value), inline (hot path)
        raise TypeError(f"expected a string, got {type(value).__name__}")
    address = value.strip().lower()
    local, _, domain = address.partition("@")  # no "@": domain "" (invalid)
    valid = _CHECKED_DOMAINS.get(domain)
    if valid is None:
        valid = _check_domain(domain)
    if (
        not valid
        or len(address) > 254
        or not local  # (below: no empty atom, no character outside atoms)
        or local[0] == "."
        or local[-1] == "."
        or ".." in local
        # letters and digits never fall outside atoms: a cheap test for the usual case
        or not (local.replace(".", "").isalnum() or _NOT_IN_ATOMS.isdisjoint(local))
    ):
        raise ValueError(f"not an email address: {quote(value)}")
    return address


def _check_domain(domain: str) -> bool:
    """Whether ``domain`` is an email domain; the answer is kept in ``_CHECKED_DOMAINS``."""
    valid = _EMAIL_DOMAIN.fullmatch(domain) is not None
    if len(_CHECKED_DOMAINS) >= 4096:
        _CHECKED_DOMAINS.clear()
    _CHECKED_DOMAINS[domain] = valid
    return valid


def domain(value: object) -> object:
    """Lower-cased host name without scheme, ``www.`` or trailing dot."""
    host = _text(value).strip().lower().removeprefix("https://").removeprefix("http://")
    host = host.split("/", 1)[0].removeprefix("www.").rstrip(".")
    if not _DOMAIN.fullmatch(host):
        raise ValueError(f"not a domain name: {quote(value)}")
    return host


def country_alpha2(value: object) -> object:
    code = _text(value).strip().upper()
    if code not in ISO_3166_ALPHA2:
        raise ValueError(f"not an ISO 3166-1 alpha-2 country code: {quote(value)}")
    return code


@functools.lru_cache(maxsize=65536)
def parse_national(number: str, region: str) -> str:
    """``number`` in ``region`` as E.164 (cached: ``parse_national.cache_clear()`` forgets).
    Raises ``ValueError`` when it is not a possible number there."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {quote(number)} ({exc})") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"not a possible phone number for {region}: {quote(number)}")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


# ``e164``'s region for "international numbers only": national ones give ``None``.
INTERNATIONAL_ONLY = "+"


def e164(default_region: str) -> Normaliser:
    """Phone numbers to E.164. International numbers (``+``/``00``) that are E.164-shaped once
    separators are removed take a fast path (syntax only); anything else is parsed with
    ``phonenumbers`` in ``default_region`` and must be a possible number there. With
    ``INTERNATIONAL_ONLY`` the normaliser returns ``None`` where it would need a region."""
    international_only = default_region == INTERNATIONAL_ONLY

    def normalise(value: object) -> object:
        if not isinstance(value, str):  # _text(value), inline (hot path)
            raise TypeError(f"expected a string, got {type(value).__name__}")
        text = value
        if text.isascii():  # the usual case, on bytes: "+", then 7-15 digits, the first not 0
            compact = text.encode().translate(None, _ASCII_SEPARATORS)
            if compact.startswith(b"00"):
                compact = b"+" + compact[2:]
            if (
                8 <= len(compact) <= 16
                and compact[0] == 43  # "+"
                and compact[1] != 48  # "0"
                and compact[1:].isdigit()  # (ASCII digits only, like [0-9])
            ):
                return compact.decode()
        else:
            compact_text = text.translate(_DROP_SEPARATORS)
            if compact_text.startswith("00"):
                compact_text = "+" + compact_text[2:]
            if _E164.fullmatch(compact_text):
                return compact_text
        if international_only:
            return None
        return parse_national(text, default_region)

    return normalise


SIMPLE_NORMALISERS: dict[str, Normaliser] = {
    "trim": trim,
    "lower": lower,
    "upper": upper,
    "empty_to_null": empty_to_null,
    "email": email,
    "domain": domain,
    "country_alpha2": country_alpha2,
}


def normaliser_for(name: str, default_region: str = "US") -> Normaliser:
    """The normaliser called ``name`` in a mapping file. Raises ``ValueError`` if unknown."""
    if name == "e164":
        return e164(default_region)
    if name in SIMPLE_NORMALISERS:
        return SIMPLE_NORMALISERS[name]
    raise ValueError(f"unknown normaliser {name!r}")
