"""Callbacks that higher apps register to hear of loyalty events, without loyalty importing them.

``register_account_opened(callback)``: ``callback(account)`` is called by
``loyalty.services.account_open`` inside its transaction, after the account, its card and its
welcome bonus were written (not when the customer already had one). An app registers from its
``AppConfig.ready``; the reports app uses it to count the customer's orders from then on as a
member's. A callback that raises refuses the opening, so callbacks must not raise for their own
reasons.

``register_points_changed(callback)``: ``callback(account)`` is called once per account by each
service that writes its points ledger (``loyalty.services.account_open`` with a welcome bonus,
``points_adjust``, ``points_bonus``, ``points_redeem``, ``points_earn_for_order``,
``points_reverse``, and per account of each batch of ``loyalty.nightly.points_expire_due`` and
``loyalty.nightly.birthday_bonuses_grant``, and for the accounts of two customers merged),
inside its transaction, after the entries were written. Points turning from pending to
spendable with time are written by nobody and not heard.
"""

from omni.core.hooks import Hook

account_opened = Hook("loyalty.account_opened")
register_account_opened = account_opened.register
points_changed = Hook("loyalty.points_changed")
register_points_changed = points_changed.register
