"""The API's throttle: one counter per client and window, exact under concurrent requests."""

import threading
import uuid
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from omni.core.api.throttling import ClientRateThrottle
from omni.core.models import ApiKey


@pytest.fixture
def rate():
    """``rate("3/minute")`` sets the budget for the test; the counters start empty."""
    original = SimpleRateThrottle.THROTTLE_RATES
    cache.clear()

    def set_rate(value: str) -> None:
        SimpleRateThrottle.THROTTLE_RATES = {"client": value}

    yield set_rate
    SimpleRateThrottle.THROTTLE_RATES = original
    cache.clear()


def calls(key_id: int, at: float, count: int = 1) -> list[bool]:
    request = SimpleNamespace(auth=ApiKey(pk=key_id))
    answers = []
    for _ in range(count):
        throttle = ClientRateThrottle()
        throttle.timer = lambda: at
        answers.append(throttle.allow_request(request, None))
    return answers


def test_a_budget_is_counted_per_key_and_window(rate):
    rate("3/minute")
    start = 1_000_000 * 60.0  # a window's first second

    assert calls(1, start, 4) == [True, True, True, False]
    assert calls(2, start + 30, 3) == [True, True, True]  # another key, its own budget
    assert calls(1, start + 59.9) == [False]
    assert calls(1, start + 60, 3) == [True, True, True]  # the next window


@pytest.fixture
def on_redis():
    """The throttle counting in the cache a deployment with REDIS_URL uses (one round trip a request)."""
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    from omni.core.cache import RedisCache

    redis_cache = RedisCache(url, {"KEY_PREFIX": f"test-throttle-{uuid.uuid4().hex}"})
    original = ClientRateThrottle.cache
    ClientRateThrottle.cache = redis_cache
    yield redis_cache
    ClientRateThrottle.cache = original
    # only this test's keys: clear() would flush the database other users of this Redis share
    redis_cache.delete_many([f"throttle_client_key:1:{window}" for window in (1_000_000, 1_000_001)])


def test_the_counters_work_on_redis(rate, on_redis):
    rate("2/minute")
    start = 1_000_000 * 60.0

    # then the budget is counted there as in memory, each window's counter expiring after it
    assert calls(1, start, 3) == [True, True, False]
    assert calls(1, start + 60, 1) == [True]
    assert 0 < on_redis._cache.get_client().ttl(on_redis.make_key("throttle_client_key:1:1000001")) <= 61


def test_retry_after_is_the_rest_of_the_window(rate):
    rate("1/minute")
    start = 1_000_000 * 60.0
    calls(1, start)
    throttle = ClientRateThrottle()
    throttle.timer = lambda: start + 45.5

    assert throttle.allow_request(SimpleNamespace(auth=ApiKey(pk=1)), None) is False
    assert throttle.wait() == pytest.approx(14.5)


@pytest.mark.parametrize("counters", ["in memory", "on Redis"])
def test_racing_requests_get_exactly_the_budget(rate, counters, request):
    # given eight clients of one key sending at once, 160 requests for a budget of 50
    if counters == "on Redis":
        request.getfixturevalue("on_redis")
    rate("50/minute")
    start = 1_000_000 * 60.0
    barrier, allowed, lock = threading.Barrier(8), [], threading.Lock()

    def send():
        barrier.wait()
        answers = calls(1, start + 1, 20)
        with lock:
            allowed.extend(answer for answer in answers if answer)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then exactly 50 were let through
    assert len(allowed) == 50
