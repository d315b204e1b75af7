"""ISO 3166-1 country codes: numeric codes as stored on chain, with a small alpha-2 table for input."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# The common ones for municipal issuance and its investors; numeric codes are accepted for every country.
ALPHA2_TO_NUMERIC: Mapping[str, int] = MappingProxyType(
    {
        "JP": 392,
        "CH": 756,
        "LI": 438,
        "US": 840,
        "CA": 124,
        "GB": 826,
        "IE": 372,
        "DE": 276,
        "FR": 250,
        "IT": 380,
        "ES": 724,
        "NL": 528,
        "BE": 56,
        "LU": 442,
        "AT": 40,
        "SE": 752,
        "NO": 578,
        "DK": 208,
        "FI": 246,
        "SG": 702,
        "HK": 344,
        "KR": 410,
        "CN": 156,
        "TW": 158,
        "AU": 36,
        "NZ": 554,
    }
)


def country_code(value: str | int) -> int:
    """ISO 3166-1 numeric code (1..999) from a numeric code, a numeric string ("392") or an alpha-2 code."""
    if isinstance(value, bool):
        raise ValueError(f"country must be an ISO 3166-1 numeric code or alpha-2 code, got {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value, 10)
    elif isinstance(value, str) and value.upper() in ALPHA2_TO_NUMERIC and len(value) == 2:
        return ALPHA2_TO_NUMERIC[value.upper()]
    else:
        raise ValueError(
            f"country must be an ISO 3166-1 numeric code (e.g. 392) or a known alpha-2 code"
            f" ({', '.join(ALPHA2_TO_NUMERIC)}), got {value!r}"
        )
    if not 1 <= number <= 999:
        raise ValueError(f"country code must be within 1..999, got {number}")
    return number
