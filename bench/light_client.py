"""A lean Socket.IO listener for the fanout benchmark: many connections per process.

It speaks just enough Engine.IO v4 / Socket.IO v5 over a websocket (``websockets``, with its
C framing) to join ``/live`` with a token, answer pings, and note when each
``event.created`` arrives. It finds ids and sequence numbers in the raw text instead of
decoding every delta, so the measuring side costs little next to the server it measures.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter

import websockets

_CREATED = re.compile(r'"seq":\s*"([0-9-]+)",\s*"kind":\s*"event\.created",\s*"id":\s*"([^"]+)"')


class LightListener:
    def __init__(self) -> None:
        self.received: dict[str, float] = {}
        self.seen: Counter = Counter()
        self.connected = asyncio.Event()

    async def run(self, base: str, token: str, stop: asyncio.Event) -> None:
        url = base.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        async with websockets.connect(url, max_size=None, compression=None) as ws:
            await ws.recv()  # Engine.IO open packet
            await ws.send("40/live," + json.dumps({"token": token}))
            receiver = asyncio.create_task(self._receive(ws))
            await stop.wait()
            receiver.cancel()

    async def _receive(self, ws) -> None:
        async for message in ws:
            now = time.time()
            if message == "2":  # ping
                await ws.send("3")
            elif message.startswith("40/live"):
                self.connected.set()
            elif message.startswith('42/live,["delta"'):
                for seq, event_id in _CREATED.findall(message):
                    self.seen[seq] += 1
                    self.received.setdefault(event_id, now)


def listen(base: str, token: str, n: int, ready, done, out) -> None:
    """One client process: ``n`` connections; reports what each received when ``done``."""
    asyncio.run(_listen(base, token, n, ready, done, out))


async def _listen(base, token, n, ready, done, out) -> None:
    stop = asyncio.Event()
    listeners = [LightListener() for _ in range(n)]
    tasks = [asyncio.create_task(lis.run(base, token, stop)) for lis in listeners]
    await asyncio.wait_for(asyncio.gather(*(lis.connected.wait() for lis in listeners)), 60)
    ready.put(n)
    while not done.is_set():
        await asyncio.sleep(0.2)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    out.put([(dict(lis.received), dict(lis.seen)) for lis in listeners])
