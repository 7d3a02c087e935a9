#!/usr/bin/env python3
"""The Python peers of `trioasyncio bench -peers`: the project's workloads on
CPython's asyncio, on uvloop, or on trio-asyncio.

    asyncio_peer.py --loop asyncio|uvloop|trio-asyncio CASE N
    asyncio_peer.py --loop FLAVOR --check

prints one JSON line: {"impl", "ns_per_op", "cpu_ns_per_op"}, or {"skip"} for
a case this flavor does not run; --check prints {"impl", "cases"} or fails
with the reason. Timed regions exclude interpreter and loop start-up, as in
the Go workloads (internal/workloads); the workloads are described in the
project's benchmark notes (W1 callbacks, W2 timers, W3 ping-pong, W4 spawn,
W5 TCP echo, W6 the trio/asyncio boundary).
"""

import argparse
import asyncio
import json
import sys
import time

CASES = ["W1", "W2", "W3", "W4", "W5"]
TRIO_CASES = CASES + ["W6-trio-to-asyncio", "W6-asyncio-to-trio"]


def minstd(n):
    """W2's delays in seconds: Park-Miller minstd from 42, over a window of
    500 ns per timer (100 ms at n = 200,000)."""
    m = 2**31 - 1
    window = n * 500e-9
    x = 42
    out = []
    for _ in range(n):
        x = 48271 * x % m
        out.append(window * x / m)
    return out


class Clock:
    """The timed region: wall and process CPU time."""

    def start(self):
        self.t0 = time.perf_counter()
        self.c0 = time.process_time()

    def stop(self):
        self.wall = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.c0


async def w1(n, clock):
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    count = 0

    def cb():
        nonlocal count
        count += 1
        if count < n:
            loop.call_soon(cb)
        else:
            fut.set_result(count)

    clock.start()
    loop.call_soon(cb)
    await fut
    clock.stop()


async def w2(n, clock):
    loop = asyncio.get_running_loop()
    delays = minstd(n)
    fut = loop.create_future()
    want = (n + 1) // 2
    fired = 0

    def fire():
        nonlocal fired
        fired += 1
        if fired == want:
            fut.set_result(fired)

    clock.start()
    hs = [loop.call_later(d, fire) for d in delays]
    for i in range(1, n, 2):
        hs[i].cancel()
    await fut
    clock.stop()


async def w3(n, clock):
    loop = asyncio.get_running_loop()
    rounds = max(n // 2, 1)
    box = [loop.create_future(), None]

    async def ponger():
        for i in range(rounds):
            await box[0]
            box[0] = loop.create_future()
            box[1].set_result(i)

    async def pinger():
        for i in range(rounds):
            fa = loop.create_future()
            box[1] = fa
            box[0].set_result(i)
            await fa

    clock.start()
    p = asyncio.ensure_future(ponger())
    q = asyncio.ensure_future(pinger())
    await p
    await q
    clock.stop()


async def w4(n, clock):
    async def child(i):
        await asyncio.sleep(0)
        return i

    clock.start()
    tasks = [asyncio.ensure_future(child(i)) for i in range(n)]
    total = sum(await asyncio.gather(*tasks))
    clock.stop()
    assert total == n * (n - 1) // 2


async def w5(n, clock):
    """50 clients, round trips of 64 bytes, both sides Protocols (asyncio
    sets TCP_NODELAY on TCP connections itself)."""
    loop = asyncio.get_running_loop()
    clients, size = 50, 64
    msg = bytes(size)
    per = [n // clients + (1 if i < n % clients else 0) for i in range(clients)]
    done = loop.create_future()
    left = sum(1 for r in per if r > 0)

    class Echo(asyncio.Protocol):
        def connection_made(self, tr):
            self.tr = tr

        def data_received(self, data):
            self.tr.write(data)

    class Client(asyncio.Protocol):
        def __init__(self, rounds):
            self.got = 0
            self.remaining = rounds

        def connection_made(self, tr):
            self.tr = tr

        def data_received(self, data):
            nonlocal left
            self.got += len(data)
            while self.got >= size:
                self.got -= size
                self.remaining -= 1
                if self.remaining > 0:
                    self.tr.write(msg)
                elif self.remaining == 0:
                    left -= 1
                    if left == 0:
                        done.set_result(None)

    server = await loop.create_server(Echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    conns = []
    for r in per:
        conns.append(await loop.create_connection(lambda r=r: Client(r), "127.0.0.1", port))
    clock.start()
    for tr, c in conns:
        if c.remaining > 0:
            tr.write(msg)
    if left:
        await done
    clock.stop()
    for tr, _ in conns:
        tr.close()
    server.close()
    await server.wait_closed()


WORKLOADS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5}


def run_asyncio(case, n, loop_factory):
    clock = Clock()
    if hasattr(asyncio, "Runner"):
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(WORKLOADS[case](n, clock))
    else:
        loop = loop_factory()
        try:
            loop.run_until_complete(WORKLOADS[case](n, clock))
        finally:
            loop.close()
    return clock


def run_trio_asyncio(case, n):
    import trio
    import trio_asyncio

    clock = Clock()

    async def aio_noop():
        return 1

    async def trio_noop():
        return 1

    async def main():
        async with trio_asyncio.open_loop():
            if case in WORKLOADS:
                await trio_asyncio.aio_as_trio(WORKLOADS[case])(n, clock)
            elif case == "W6-trio-to-asyncio":
                call = trio_asyncio.aio_as_trio(aio_noop)
                clock.start()
                for _ in range(n):
                    await call()
                clock.stop()
            elif case == "W6-asyncio-to-trio":

                async def calls():
                    call = trio_asyncio.trio_as_aio(trio_noop)
                    clock.start()
                    for _ in range(n):
                        await call()
                    clock.stop()

                await trio_asyncio.aio_as_trio(calls)()

    trio.run(main)
    return clock


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loop", choices=["asyncio", "uvloop", "trio-asyncio"], default="asyncio")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("case", nargs="?")
    ap.add_argument("n", nargs="?", type=int)
    args = ap.parse_args()
    py = "%d.%d.%d" % sys.version_info[:3]

    if args.loop == "asyncio":
        impl, cases, factory = "CPython %s asyncio" % py, CASES, asyncio.new_event_loop
    elif args.loop == "uvloop":
        try:
            import uvloop
        except ImportError as e:
            sys.exit("uvloop is not importable: %s" % e)
        impl, cases, factory = "uvloop %s (CPython %s)" % (uvloop.__version__, py), CASES, uvloop.new_event_loop
    else:
        try:
            import trio
            import trio_asyncio
        except ImportError as e:
            sys.exit("trio-asyncio is not importable: %s" % e)
        version = getattr(trio_asyncio, "__version__", "?")
        impl, cases, factory = "trio-asyncio %s (trio %s, CPython %s)" % (version, trio.__version__, py), TRIO_CASES, None

    if args.check:
        print(json.dumps({"impl": impl, "cases": cases}))
        return
    if args.case is None or args.n is None:
        ap.error("CASE and N are required")
    if args.case not in cases:
        print(json.dumps({"impl": impl, "skip": "%s does not run %s" % (impl, args.case)}))
        return
    if factory is None:
        clock = run_trio_asyncio(args.case, args.n)
    else:
        clock = run_asyncio(args.case, args.n, factory)
    print(json.dumps({
        "impl": impl,
        "case": args.case,
        "n": args.n,
        "ns_per_op": clock.wall * 1e9 / args.n,
        "cpu_ns_per_op": clock.cpu * 1e9 / args.n,
    }))


if __name__ == "__main__":
    main()
