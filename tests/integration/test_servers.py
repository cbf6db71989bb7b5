"""The servers the integration tests use are real and reachable over the loopback network."""

from __future__ import annotations

import redis
import s3fs


def test_moto_server_answers_s3_requests_over_http(s3_bucket: str, s3_endpoint: str) -> None:
    fs = s3fs.S3FileSystem(endpoint_url=s3_endpoint, key='testing', secret='testing', skip_instance_cache=True)
    fs.pipe_file(f'{s3_bucket}/hello.txt', b'hi')
    assert fs.cat_file(f'{s3_bucket}/hello.txt') == b'hi'
    assert s3_endpoint.startswith('http://127.0.0.1:')


def test_redis_server_answers_commands(redis_address: tuple[str, int]) -> None:
    host, port = redis_address
    client = redis.Redis(host=host, port=port)
    client.set('gokart-test', b'1')
    assert client.get('gokart-test') == b'1'
