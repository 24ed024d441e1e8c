"""Forms of the store desks, one module per desk (``orders.desk_forms.till``, ...)."""
