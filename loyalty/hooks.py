"""Callbacks that higher apps register to hear of loyalty events, without loyalty importing them.

``register_account_opened(callback)``: ``callback(account)`` is called by
``loyalty.services.account_open`` inside its transaction, after the account, its card and its
welcome bonus were written (not when the customer already had one). An app registers from its
``AppConfig.ready``; the reports app uses it to count the customer's orders from then on as a
member's. A callback that raises refuses the opening, so callbacks must not raise for their own
reasons.
"""

from collections.abc import Callable

AccountOpened = Callable[..., object]

_account_opened: dict[str, AccountOpened] = {}


def register_account_opened(callback: AccountOpened) -> None:
    """Add a callback run when an account is opened; registering the same function again
    (``ready()`` run twice) replaces it rather than adding it twice."""
    _account_opened[f"{callback.__module__}.{callback.__qualname__}"] = callback


def account_opened(account) -> None:
    for callback in list(_account_opened.values()):
        callback(account)
