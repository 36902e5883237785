"""``ssbtek simulate-providers``: the SIMULATED base services over their v10 contracts.

One process, one port, a path per provider (``adapters.providers.v10.simulators``), so that
``ssbtek serve --providers v10 --provider-options url=http://127.0.0.1:8090`` runs on one
machine. Options are the simulated providers' and the wire faults (``fault=hang``,
``MIGRATIONSVERKET.fault=soap_fault``, ...). A bad option stops it with exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import ssl
import sys
from typing import TYPE_CHECKING

from infrastructure.cli_light import SettingsError

if TYPE_CHECKING:
    from adapters.providers.v10.simulators import ProviderSimulators


def _tls(args: argparse.Namespace) -> ssl.SSLContext | None:
    if not args.tls_certificate:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.tls_certificate, args.tls_private_key)
    if args.tls_client_ca:
        context.load_verify_locations(args.tls_client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


async def _serve(simulators: ProviderSimulators, host: str, port: int) -> None:
    url = await simulators.start(host, port)
    sys.stderr.write(f"simulated base services (v10 contracts) on {url}\n")
    sys.stderr.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await simulators.stop()


def _simulate(args: argparse.Namespace) -> int:
    from infrastructure import composition  # when it runs: ``ssbtek --help`` stays light
    from infrastructure.settings import parse_options

    try:
        options = parse_options(args.options or "")
        simulators = composition.build_provider_simulators(options, tls=_tls(args))
    except (SettingsError, ValueError, OSError) as error:
        sys.stderr.write(f"ssbtek simulate-providers: {error}\n")
        return 2
    host, _, port = args.listen.rpartition(":")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(simulators, host or "127.0.0.1", int(port)))
    return 0


def fill_simulate(simulate: argparse.ArgumentParser) -> None:
    simulate.add_argument("--listen", default="127.0.0.1:8090", help="host:port (0: any port)")
    simulate.add_argument(
        "--options",
        help="key=value,...: latency, seed, *_rate, fault=<wire fault>, <PROVIDER>.<option>",
    )
    simulate.add_argument("--tls-certificate", help="serve HTTPS with this certificate (PEM)")
    simulate.add_argument("--tls-private-key", help="its private key (PEM)")
    simulate.add_argument("--tls-client-ca", help="require client certificates from this CA")
    simulate.set_defaults(handler=_simulate)
