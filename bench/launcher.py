"""``python -m bench.launcher --rung echo|proxy|service``: one benchmark server process.

Configuration comes from the same ``SSBTEK_*`` variables ``ssbtek serve`` reads
(``infrastructure.settings.load``), logging is set up as ``ssbtek serve`` sets it up, and
the server says ``serving on <host>:<port>`` like ``ssbtek serve``. It stops on SIGTERM.

- ``echo``: L0, ``bench.echo``.
- ``proxy``: L1, ``bench.proxy`` over ``build_simulated_base_services(provider options)``.
- ``service``: the product's own ``infrastructure.service.serve``, what ``ssbtek serve``
  runs, with ``--reuse-port`` and ``--worker-index`` as ``ssbtek serve --workers`` gives
  each of its processes (N processes of a tree whose ``ssbtek serve`` has no
  ``--workers``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

import grpc

from adapters.grpc.server import MAX_MESSAGE_BYTES
from adapters.providers.simulated import build_simulated_base_services
from bench.echo import echo_handler
from bench.proxy import proxy_handler
from infrastructure import settings as settings_module
from infrastructure.logging_setup import configure_logging
from infrastructure.settings import Settings


def _bare_server(
    handler: grpc.GenericRpcHandler, address: str, reuse_port: bool
) -> tuple[grpc.aio.Server, int]:
    options: list[tuple[str, Any]] = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.so_reuseport", 1 if reuse_port else 0),
    ]
    server = grpc.aio.server(options=options)
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"could not bind to {address}")
    return server, port


async def _serve_bare(rung: str, settings: Settings, reuse_port: bool) -> None:
    if rung == "echo":
        handler = echo_handler()
    else:
        handler = proxy_handler(build_simulated_base_services(settings.provider_options))
    server, port = _bare_server(handler, settings.listen, reuse_port)
    await server.start()
    host = settings.listen.rsplit(":", 1)[0]
    logging.getLogger("ssbtek.bench").info("bench %s serving on %s:%d", rung, host, port)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    await server.stop(grace=5)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.launcher", description=__doc__)
    parser.add_argument("--rung", choices=["echo", "proxy", "service"], required=True)
    parser.add_argument("--reuse-port", action="store_true")
    parser.add_argument("--worker-index", type=int, default=0)
    parser.add_argument(
        "--organisations",
        type=int,
        default=0,
        help="service: connect this many more municipalities first (bench.workload)",
    )
    args = parser.parse_args(argv)
    settings = settings_module.load()
    configure_logging(settings.log_level, settings.log_format)
    if args.rung != "service":
        asyncio.run(_serve_bare(args.rung, settings, args.reuse_port))
        return 0
    from infrastructure.service import serve

    prepared = False
    if args.organisations:
        from bench.workload import organisations
        from infrastructure.composition import prepare, seed_municipalities

        prepare(settings)
        names = [(number, f"Bench kommun {number}") for number in organisations(args.organisations)]
        seed_municipalities(settings, names)
        prepared = True
    asyncio.run(
        serve(settings, reuse_port=args.reuse_port, worker=args.worker_index, prepared=prepared)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
