"""Where events come from: one module per app, each with ``connect()`` registering its hooks."""
