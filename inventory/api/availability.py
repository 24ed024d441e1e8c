"""The availability answer written as JSON text from what the database wrote.

An answer holds up to 200 SKUs at every location (10,000 figures for 50 SKUs at 200 stores);
through dicts and a serializer, Python spent twice the query's time on them, and writing each
figure's text in Python still half of it. The database writes each location's text
(``inventory.selectors.availability_json_parts``); here they are only ordered and framed. The
shape is ``AvailabilitySerializer``'s, which documents it in the schema.
"""

import json
from collections.abc import Sequence

from inventory.selectors import LOCATIONS_SEPARATOR

_OPENING = '{"location":'  # how each location's text begins, its code right after


def availability_json(skus: Sequence[str], parts: dict[str, tuple[int, str]]) -> str:
    """``{"results": [{"sku", "total_available", "locations": [{"location", "available"}]}]}``:
    one entry per SKU asked, in the order asked, from ``availability_json_parts``; its locations
    by code (a SKU without stock rows: none)."""
    entries = []
    for sku in skus:
        total, located = parts.get(sku, (0, ""))
        items = "},".join(_by_code(located)) + "}" if located else ""
        sku_text = json.dumps(sku, ensure_ascii=False)
        entries.append(f'{{"sku":{sku_text},"total_available":{total},"locations":[{items}]}}')
    return f'{{"results":[{",".join(entries)}]}}'


# A code's JSON text sorts as the code does, up to its closing quote: a code holding a character
# below that quote (a space, "!") or one written escaped (a quote, a backslash) must be read back.
# (Three substring tests: a regular expression's character class took 25 µs a SKU, these 0.2.)
_SORTS_UNLIKE_ITS_CODE = (" ", "!", "\\")


def _by_code(located: str) -> list[str]:
    texts = located.split(LOCATIONS_SEPARATOR)
    if any(char in located for char in _SORTS_UNLIKE_ITS_CODE):
        texts.sort(key=_code)
    else:
        texts.sort()
    return texts


def _code(text: str) -> str:
    return json.loads(text[len(_OPENING) : text.rindex(',"available":')])
