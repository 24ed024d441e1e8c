from rest_framework.throttling import SimpleRateThrottle

from omni.core.models import ApiKey


class ClientRateThrottle(SimpleRateThrottle):
    """One budget per API key, per staff user, or per address for anonymous calls, counted in
    fixed windows of the rate's period (``API_THROTTLE_RATE``: 6000 a minute).

    One counter per client and window, changed with ``cache.incr``: DRF's own throttle keeps the
    time of every request of the last period in one cache entry and reads and writes it whole on
    every request (up to 6,000 floats pickled to and from Redis). A client may send up to twice
    its rate across the edge of two windows; the period is short enough for that not to matter.
    """

    scope = "client"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiKey):
            ident = f"key:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        return self._count(f"{key}:{window}") <= self.num_requests

    def _count(self, key: str) -> int:
        """This request's number in its window (the counter expires with the window): one round trip
        to Redis (``omni.core.cache.RedisCache.count``); elsewhere, Django's cache operations."""
        if count := getattr(self.cache, "count", None):
            return count(key, self.duration + 1)
        try:
            return self.cache.incr(key)
        except ValueError:  # the window's first request, or two of them at once
            if self.cache.add(key, 1, self.duration + 1):
                return 1
            return self.cache.incr(key)

    def wait(self):
        return max(self.window_ends - self.now, 1)
