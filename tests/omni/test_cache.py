"""The Redis cache a deployment with ``REDIS_URL`` uses (``omni.core.cache.RedisCache``)."""

import os
import uuid

import pytest

redis = pytest.importorskip("redis")
URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_cache():
    try:
        redis.Redis.from_url(URL).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    from omni.core.cache import RedisCache

    cache = RedisCache(URL, {"KEY_PREFIX": f"test-cache-{uuid.uuid4().hex}"})
    yield cache
    cache.delete_many(["counter", "value", "mark"])  # only this test's keys: others share this Redis


def test_it_works_as_djangos_redis_cache(redis_cache):
    assert redis_cache.add("mark", 1) is True
    assert redis_cache.add("mark", 2) is False
    redis_cache.set("value", {"a": [1, 2]})
    redis_cache.set("counter", 0)

    assert redis_cache.incr("counter", 5) == 5
    assert redis_cache.get_many(["value", "mark", "missing"]) == {"value": {"a": [1, 2]}, "mark": 1}


def test_a_counter_starts_at_one_and_expires_with_its_timeout(redis_cache):
    assert [redis_cache.count("counter", 60) for _ in range(3)] == [1, 2, 3]
    assert redis_cache.get("counter") == 3
    assert 0 < redis_cache._cache.get_client().ttl(redis_cache.make_key("counter")) <= 60


def test_one_client_serves_every_operation_on_its_pool(redis_cache):
    redis_cache.set("value", 1)
    client = redis_cache._cache.get_client(write=True)

    redis_cache.get("value")
    redis_cache.incr("value")

    assert redis_cache._cache.get_client(write=False) is client
    assert redis_cache._cache.get_client(write=True).connection_pool is client.connection_pool


def test_a_child_process_gets_its_own_connections(redis_cache):
    redis_cache.set("value", "before the fork")
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # redis-py's pool notices the new pid and opens its own connections
        os.close(read)
        os.write(write, str(redis_cache.get("value")).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)

    assert os.read(read, 100) == b"before the fork"
    assert redis_cache.get("value") == "before the fork"
