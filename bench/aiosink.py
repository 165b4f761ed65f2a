"""An aiosmtpd sink that logs when each mail's DATA completed: ``rcpt<TAB>unix time`` lines.

usage: aiosink.py PORT LOGFILE   (uvloop; used only for the latency figure, which needs
arrival times that postfix's smtp-sink cannot give)
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import uvloop
from aiosmtpd.smtp import SMTP


class Recorder:
    def __init__(self, log: Any) -> None:
        self.log = log

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        now = time.time()
        for rcpt in envelope.rcpt_tos:
            self.log.write(f"{rcpt}\t{now:.6f}\n")
        self.log.flush()
        return "250 OK"


async def main(port: int, path: str) -> None:
    with open(path, "a", encoding="utf-8") as log:
        handler = Recorder(log)
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="sink.localhost", data_size_limit=10_000_000),
            "127.0.0.1", port)
        async with server:
            await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1]), sys.argv[2]))
