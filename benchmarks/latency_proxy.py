"""A TCP proxy that delays every HTTP request by a fixed time, so local S3 benchmarks see a bucket's latency.

moto's server answers on the loopback interface in well under a millisecond; a real bucket takes
10-30 ms per request. Put this proxy between the client and moto and every request pays a fixed
delay (default 20 ms), so a benchmark shows what one round trip per task costs.

Where the delay goes: on the client-to-server side, once per *turn*. A turn begins with the first
bytes a client sends on a new connection, and again with the first bytes it sends after the server
has answered anything on that connection. So on a keep-alive connection each request is delayed
once, however many reads its body takes; a request that waits for ``100 Continue`` before sending
its body pays a second delay for that second turn, as it would on a real network. Answers go back
without delay. Connections are independent: requests on parallel connections wait concurrently.

Counting: a turn whose first bytes start with an HTTP method (``GET``, ``HEAD``, ``PUT``, ...) is a
request; ``stats()`` returns the requests per method and the number of turns and connections.

Standard library only, so any interpreter can run it. Two ways to use it:
- in a thread: ``with running_proxy(upstream_host, upstream_port, delay=0.02) as proxy: ...``
  (``proxy.port``, ``proxy.stats()``, ``proxy.reset()``);
- as a process: ``python latency_proxy.py --upstream HOST:PORT [--delay-ms 20] [--port 0]`` prints
  ``{"port": N}`` once it listens, then answers each line read from stdin: ``stats`` prints the
  counts as one JSON line, ``reset`` zeroes them (and prints ``{}``); end of input stops it.
  ``ProxyProcess`` (below) drives that from another Python program.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

DEFAULT_DELAY_SECONDS = 0.020
HTTP_METHODS = (b'GET', b'HEAD', b'PUT', b'POST', b'DELETE', b'OPTIONS', b'PATCH')
_CHUNK = 256 * 1024
# How long an answer may still flow after the client has closed its sending side.
_DRAIN_SECONDS = 30.0


class LatencyProxy:
    """The proxy itself: an asyncio server forwarding to one upstream address, with request counts."""

    def __init__(self, upstream_host: str, upstream_port: int, delay: float = DEFAULT_DELAY_SECONDS) -> None:
        if delay < 0:
            raise ValueError(f'latency proxy: delay must be >= 0 seconds, got {delay}')
        self.upstream = (upstream_host, upstream_port)
        self.delay = delay
        self.port = 0
        self._lock = threading.Lock()
        self._methods: Counter[str] = Counter()
        self._turns = 0
        self._connections = 0
        self._server: asyncio.Server | None = None
        self._live: set[asyncio.Task[None]] = set()

    async def start(self, host: str = '127.0.0.1', port: int = 0) -> int:
        """Listens on (host, port); returns the port (an ephemeral one when `port` is 0)."""
        self._server = await asyncio.start_server(self._serve, host, port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def close(self) -> None:
        """Stops listening and ends the connections still open (a client's idle keep-alive ones)."""
        if self._server is not None:
            self._server.close()
        live = [task for task in self._live if not task.done()]
        for task in live:
            task.cancel()
        await asyncio.gather(*live, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def stats(self) -> dict[str, Any]:
        """Requests (total and per method), turns and connections since the start or the last `reset`."""
        with self._lock:
            methods = dict(self._methods)
            return {'requests': sum(methods.values()), 'methods': methods, 'turns': self._turns, 'connections': self._connections}

    def reset(self) -> None:
        with self._lock:
            self._methods.clear()
            self._turns = 0
            self._connections = 0

    def _count_turn(self, first_bytes: bytes) -> None:
        method = first_bytes.split(b' ', 1)[0]
        with self._lock:
            self._turns += 1
            if method in HTTP_METHODS:
                self._methods[method.decode()] += 1

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        current = asyncio.current_task()
        if current is not None:
            self._live.add(current)
            current.add_done_callback(self._live.discard)
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        with self._lock:
            self._connections += 1
        # True when the next client bytes begin a new turn: at the start, and after any answer.
        turn = {'new': True}
        upstream = asyncio.ensure_future(self._client_to_server(client_reader, server_writer, turn))
        downstream = asyncio.ensure_future(self._server_to_client(server_reader, client_writer, turn))
        try:
            done, _ = await asyncio.wait({upstream, downstream}, return_when=asyncio.FIRST_COMPLETED)
            if downstream not in done:
                # The client finished sending: the server still answers, then closes its side.
                await asyncio.wait({downstream}, timeout=_DRAIN_SECONDS)
        finally:
            for task in (upstream, downstream):
                task.cancel()
            await asyncio.gather(upstream, downstream, return_exceptions=True)
            for writer in (client_writer, server_writer):
                writer.close()

    async def _client_to_server(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, turn: dict[str, bool]) -> None:
        try:
            while data := await reader.read(_CHUNK):
                if turn['new']:
                    turn['new'] = False
                    self._count_turn(data[:8])
                    if self.delay:
                        await asyncio.sleep(self.delay)
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except OSError:  # a reset connection ends the exchange like a close
            pass

    async def _server_to_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, turn: dict[str, bool]) -> None:
        try:
            while data := await reader.read(_CHUNK):
                turn['new'] = True
                writer.write(data)
                await writer.drain()
        except OSError:
            pass


class ThreadedProxy:
    """A `LatencyProxy` whose event loop runs in a daemon thread of this process."""

    def __init__(self, proxy: LatencyProxy, host: str = '127.0.0.1', port: int = 0) -> None:
        self.proxy = proxy
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name='latency-proxy', daemon=True)
        self._thread.start()
        self.port = asyncio.run_coroutine_threadsafe(proxy.start(host, port), self._loop).result(timeout=10)

    def stats(self) -> dict[str, Any]:
        return self.proxy.stats()

    def reset(self) -> None:
        self.proxy.reset()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.proxy.close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@contextmanager
def running_proxy(upstream_host: str, upstream_port: int, delay: float = DEFAULT_DELAY_SECONDS) -> Iterator[ThreadedProxy]:
    """A proxy in a thread of this process, listening on an ephemeral loopback port until the block ends."""
    threaded = ThreadedProxy(LatencyProxy(upstream_host, upstream_port, delay))
    try:
        yield threaded
    finally:
        threaded.stop()


class ProxyProcess:
    """The proxy in a process of its own (so its work takes no CPU time from the measured process).

    `python` may be any interpreter: the proxy needs only the standard library.
    """

    def __init__(self, upstream_host: str, upstream_port: int, delay: float = DEFAULT_DELAY_SECONDS, python: str = sys.executable) -> None:
        command = [python, __file__, '--upstream', f'{upstream_host}:{upstream_port}', '--delay-ms', repr(delay * 1000)]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.port = int(self._ask(None)['port'])

    def _ask(self, command: str | None) -> dict[str, Any]:
        assert self._process.stdin is not None and self._process.stdout is not None
        if command is not None:
            self._process.stdin.write(command + '\n')
            self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f'the latency proxy exited (status {self._process.wait()}) instead of answering {command or "its port"}')
        return json.loads(line)  # type: ignore[no-any-return]

    def stats(self) -> dict[str, Any]:
        return self._ask('stats')

    def reset(self) -> None:
        self._ask('reset')

    def stop(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


def _parse_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(':')
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f'--upstream takes HOST:PORT (e.g. 127.0.0.1:5000), got {text!r}')
    return host, int(port)


async def _serve_forever(args: argparse.Namespace) -> None:
    host, port = args.upstream
    proxy = LatencyProxy(host, port, delay=args.delay_ms / 1000)
    port = await proxy.start(args.host, args.port)
    print(json.dumps({'port': port}), flush=True)
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        command = line.strip()
        if command == 'stats':
            print(json.dumps(proxy.stats()), flush=True)
        elif command == 'reset':
            proxy.reset()
            print('{}', flush=True)
        elif command:
            print(json.dumps({'error': f'unknown command {command!r}; use stats or reset'}), flush=True)
    await proxy.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    parser.add_argument('--upstream', type=_parse_address, required=True, help='HOST:PORT to forward to (the moto server)')
    parser.add_argument(
        '--delay-ms', type=float, default=DEFAULT_DELAY_SECONDS * 1000, help='delay per request in milliseconds (default 20)'
    )
    parser.add_argument('--host', default='127.0.0.1', help='address to listen on (default 127.0.0.1)')
    parser.add_argument('--port', type=int, default=0, help='port to listen on (default: any free port, printed)')
    args = parser.parse_args(argv)
    if args.delay_ms < 0:
        parser.error(f'--delay-ms must be >= 0, got {args.delay_ms}')
    asyncio.run(_serve_forever(args))


if __name__ == '__main__':
    main()
