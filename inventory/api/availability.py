"""The availability answer written as JSON text straight from the query's rows.

An answer holds up to 200 SKUs at every location (10,000 figures for 50 SKUs at 200 stores);
through dicts and a serializer, Python spent twice the query's time on them. The shape is
``AvailabilitySerializer``'s, which documents it in the schema. PostgreSQL writing this text
itself (``string_agg``, ``concat`` or ``json_agg`` per SKU) was measured twice and is slower
(bench/RESULTS.md, "Reads").
"""

import json
from collections.abc import Iterable, Sequence
from operator import itemgetter


def _text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


Row = tuple[str, str, int]  # SKU, location code, available units


def rows_by_sku(skus: Sequence[str], rows: Iterable[Row]) -> dict[str, list[Row]]:
    """The rows of each SKU asked, in the order asked (a SKU without stock rows: none)."""
    by_sku: dict[str, list[Row]] = {sku: [] for sku in skus}
    for row in rows:
        by_sku[row[0]].append(row)
    return by_sku


class _Openings(dict):
    """Each location's ``{"location":"<code>","available":`` by code, made the first time it is
    written: a few hundred locations, each written thousands of times, in every answer. The codes
    come from the stock rows, never from the request, so the locations bound it."""

    def __missing__(self, code: str) -> str:
        opening = self[code] = f'{{"location":{_text(code)},"available":'
        return opening


_OPENINGS = _Openings()


def availability_json(by_sku: dict[str, list[Row]]) -> str:
    """``{"results": [{"sku", "total_available", "locations": [{"location", "available"}]}]}``:
    one entry per SKU of ``rows_by_sku``, its locations by code."""
    opening = _OPENINGS
    entries = []
    for sku, rows in by_sku.items():
        rows.sort(key=_code)
        items = "},".join([opening[row[1]] + str(row[2]) for row in rows])
        total = sum([row[2] for row in rows])
        entries.append(f'{{"sku":{_text(sku)},"total_available":{total},"locations":[{items}{"}" if rows else ""}]}}')
    return f'{{"results":[{",".join(entries)}]}}'


_code = itemgetter(1)
