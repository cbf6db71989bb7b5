"""The servers the integration tests use are real and reachable over the loopback network."""

from __future__ import annotations

import boto3
import redis


def test_moto_server_answers_s3_requests_over_http(s3_bucket: str, s3_endpoint: str) -> None:
    client = boto3.client('s3', endpoint_url=s3_endpoint, region_name='us-east-1')
    client.put_object(Bucket=s3_bucket, Key='hello.txt', Body=b'hi')
    assert client.get_object(Bucket=s3_bucket, Key='hello.txt')['Body'].read() == b'hi'
    assert s3_endpoint.startswith('http://127.0.0.1:')


def test_redis_server_answers_commands(redis_address: tuple[str, int]) -> None:
    host, port = redis_address
    client = redis.Redis(host=host, port=port)
    client.set('gokart-test', b'1')
    assert client.get('gokart-test') == b'1'
