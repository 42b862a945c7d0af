"""Event timestamps of a log: parsed to naive UTC, and refused when they do not name a day.

pandas reads ``2019-08`` as 1 August 2019 and ``2019`` as 1 January: a log whose times
are months or years would calibrate with every event at midnight of the first day. A
timestamp must name at least its day (ISO ``2019-08-05``, ``20190805``, ``05/08/2019``,
``5 Aug 2019``, with or without a time of day); :func:`partial` finds those that do not.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

MAX_LISTED = 5

_TIME_OF_DAY = re.compile(r"\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?")
_ZONE = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_MONTH = re.compile(r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec", re.IGNORECASE)
_DAY_DIRECTIVES = ("%d", "%j", "%e", "%F", "%x", "%c", "%s")


def _names_a_day(text: str) -> bool:
    value = _ZONE.sub("", _TIME_OF_DAY.sub(" ", text.strip()))
    groups = re.findall(r"\d+", value)
    if len(groups) == 1 and len(groups[0]) == 8:  # 20190805
        return True
    return len(groups) >= 3 or (len(groups) >= 2 and bool(_MONTH.search(value)))


def partial(values: pd.Series) -> np.ndarray:
    """Mask of the text values that do not name a day (``2019-08``, ``2019``, ``Aug 2019``); empty: False."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return np.zeros(len(values), dtype=bool)
    text = values.astype("string")
    unique = pd.Series(text.dropna().unique())
    flagged = {value for value in unique if not _names_a_day(str(value))}
    return text.isin(flagged).fillna(False).to_numpy(dtype=bool)


def format_names_a_day(time_format: str) -> bool:
    """Whether a strftime format has a day (``%d``, ``%j``, …): ``%Y-%m`` does not."""
    return any(directive in time_format for directive in _DAY_DIRECTIVES)


def to_utc(values: pd.Series, time_format: str | None = None) -> pd.Series:
    """Parse to naive UTC timestamps to the microsecond (NaT where unparsable); zone-aware values are
    converted to UTC."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        text = values.astype("string")
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format=time_format or "mixed")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.astype("datetime64[us]")  # (what OCEL files hold; whatever the parser inferred)


def parse_times(values: pd.Series, where: str, ids: pd.Series) -> pd.Series:
    """OCEL event times as naive UTC; unparsable, missing or partial ones refused naming the event ids."""
    parsed = to_utc(values)
    problems = []
    for mask, what in ((parsed.isna().to_numpy(), "unparsable or missing timestamps"),
                       (partial(values) & parsed.notna().to_numpy(), "timestamps that name no day")):
        if mask.any():
            shown = np.flatnonzero(mask)[:MAX_LISTED]
            listed = ", ".join(f"{ids.iloc[i]!r} ({values.iloc[i]!r})" for i in shown)
            more = " …" if mask.sum() > MAX_LISTED else ""
            problems.append(f"{where}: {int(mask.sum())} {what}, events {listed}{more}")
    if problems:
        from ordercycle.sim.twin.ocel import OcelError

        raise OcelError(problems)
    return parsed
