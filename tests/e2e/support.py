"""Helpers of the browser tests."""


def htmx_idle(page) -> None:
    """Wait until no htmx request is in flight and the last swap has settled: typing into a part
    of the page that is about to be redrawn would be lost, for a test as for a cashier."""
    page.wait_for_function(
        "() => window.htmx && !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')"
    )
