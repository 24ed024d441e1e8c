"""A hook: where a lower app lets the apps above it act, without importing them.

The lower app declares the hook and calls it from its service, inside the service's transaction;
a higher app registers a callback from its ``AppConfig.ready``. A callback that raises refuses the
whole action, so callbacks must not raise for their own reasons. Registering the same function
again (``ready()`` run twice) replaces it rather than adding it twice.
"""

from collections.abc import Callable

Callback = Callable[..., object]


class Hook:
    def __init__(self, name: str):
        self.name = name
        self._callbacks: dict[str, Callback] = {}

    def register(self, callback: Callback) -> None:
        self._callbacks[f"{callback.__module__}.{callback.__qualname__}"] = callback

    def has_callbacks(self) -> bool:
        """Whether anyone listens: lets a batch skip reading what only the callbacks would need."""
        return bool(self._callbacks)

    def __call__(self, *args, **kwargs) -> None:
        for callback in list(self._callbacks.values()):
            callback(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._callbacks)} callbacks>"
