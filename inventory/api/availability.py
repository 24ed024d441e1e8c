"""The availability answer written as JSON text straight from the query's rows.

An answer holds up to 200 SKUs at every location (10,000 figures for 50 SKUs at 200 stores);
through dicts and a serializer, Python spent twice the query's time on them. The shape is
``AvailabilitySerializer``'s, which documents it in the schema. PostgreSQL writing this text
itself (``string_agg``, ``concat`` or ``json_agg`` per SKU) was measured twice and is slower
(bench/RESULTS.md, "Reads").
"""

import json
from collections.abc import Iterable, Sequence


def _text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def availability_json(skus: Sequence[str], rows: Iterable[tuple[str, str, int]]) -> str:
    """``{"results": [{"sku", "total_available", "locations": [{"location", "available"}]}]}``:
    one entry per SKU in the order asked, its locations by code, from (SKU, code, units) rows."""
    by_sku: dict[str, list[tuple[str, int]]] = {sku: [] for sku in skus}
    for sku, code, units in rows:
        by_sku[sku].append((code, units))
    location_prefix: dict[str, str] = {}  # a few hundred locations, each written thousands of times
    entries = []
    for sku, locations in by_sku.items():
        locations.sort()
        items = []
        for code, units in locations:
            prefix = location_prefix.get(code)
            if prefix is None:
                prefix = location_prefix[code] = f'{{"location":{_text(code)},"available":'
            items.append(f"{prefix}{units}}}")
        total = sum(units for _code, units in locations)
        entries.append(f'{{"sku":{_text(sku)},"total_available":{total},"locations":[{",".join(items)}]}}')
    return f'{{"results":[{",".join(entries)}]}}'
