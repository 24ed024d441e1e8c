"""Callbacks that higher apps register to hear of loyalty events, without loyalty importing them.

``register_account_opened(callback)``: ``callback(account)`` is called by
``loyalty.services.account_open`` inside its transaction, after the account, its card and its
welcome bonus were written (not when the customer already had one). An app registers from its
``AppConfig.ready``; the reports app uses it to count the customer's orders from then on as a
member's. A callback that raises refuses the opening, so callbacks must not raise for their own
reasons.
"""

from omni.core.hooks import Hook

account_opened = Hook("loyalty.account_opened")
register_account_opened = account_opened.register
