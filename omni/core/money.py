"""Money arithmetic: two places in the configured quantum, and spreading an order figure over lines
and a line's figures over units.

Both are deterministic and exact: the parts always sum to the whole.

- ``spread`` divides an amount (in cents, or whole points) over weights with the largest
  remainder method: each part gets the floor of its exact share, then the units left go one by
  one to the largest remainders (ties to the earlier part). ``caps`` bound each part (a line
  never gets more points than its amount is worth).
- ``unit_share`` is the share of a line figure for units ``done`` to ``done + count`` of its
  ``quantity``: the difference of two cumulative shares, so refusing two units and later
  returning one never moves more (or less) than the whole line.
"""

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.conf import settings

CENT = Decimal("0.01")


def money(value) -> Decimal:
    return Decimal(value).quantize(settings.OMNI_MONEY_QUANTUM, rounding=ROUND_HALF_UP)


def _cents(value: Decimal) -> int:
    return int((Decimal(value) / CENT).to_integral_value(rounding=ROUND_HALF_UP))


def spread_units(total: int, weights: Sequence[Decimal], caps: Sequence[int] | None = None) -> list[int]:
    """Divide ``total`` whole units over ``weights`` (largest remainder), never above ``caps``."""
    count = len(weights)
    if total <= 0 or count == 0:
        return [0] * count
    caps = list(caps) if caps is not None else [total] * count
    weight_sum = sum((Decimal(w) for w in weights), Decimal(0))
    if weight_sum <= 0:
        return [0] * count
    parts, remainders = [], []
    for index, weight in enumerate(weights):
        exact = Decimal(total) * Decimal(weight) / weight_sum
        floor = min(int(exact.to_integral_value(rounding=ROUND_FLOOR)), caps[index])
        parts.append(floor)
        remainders.append((exact - floor, -index))
    left = total - sum(parts)
    while left > 0:
        candidates = [(remainders[i], i) for i in range(count) if parts[i] < caps[i]]
        if not candidates:
            break  # every part is at its cap: the caller asked for more than fits
        _best, chosen = max(candidates)
        parts[chosen] += 1
        remainders[chosen] = (remainders[chosen][0] - 1, remainders[chosen][1])
        left -= 1
    return parts


def spread_money(amount: Decimal, weights: Sequence[Decimal], caps: Sequence[Decimal] | None = None) -> list[Decimal]:
    """Divide a money ``amount`` over ``weights`` to the cent (largest remainder)."""
    cent_caps = None if caps is None else [_cents(cap) for cap in caps]
    return [money(Decimal(part) * CENT) for part in spread_units(_cents(amount), weights, cent_caps)]


def _cumulative(value: Decimal, done: int, quantity: int) -> Decimal:
    return money(Decimal(value) * done / quantity)


def unit_share(value: Decimal, *, quantity: int, done: int, count: int) -> Decimal:
    """The share of a line figure for ``count`` units after the first ``done`` of ``quantity``."""
    if count <= 0:
        return Decimal("0.00")
    return _cumulative(value, done + count, quantity) - _cumulative(value, done, quantity)


def unit_share_points(points: int, *, quantity: int, done: int, count: int) -> int:
    if count <= 0 or points <= 0:
        return 0
    return points * (done + count) // quantity - points * done // quantity
