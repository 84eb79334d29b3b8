"""o2-sdk 0.5.0 as the oracle of the non-depth streams: both libraries subscribe to the
same simulator, which sends every connection the same frames in the same order; the
updates each yields for trades, orders, balances and nonce must agree field by field
(exact ints where the SDK keeps digit strings: PARITY exception 1)."""

from __future__ import annotations

import asyncio

import pytest
from test_o2_sdk_frames import same

import o2sync
from o2sync.testing import Simulator

o2_sdk = pytest.importorskip("o2_sdk", reason="o2-sdk (the reference client) needs Python >= 3.10")
from o2_sdk.config import NetworkConfig  # noqa: E402

pytestmark = pytest.mark.sdk

PAIR = "fFUEL/fUSDC"
TIMEOUT = 10.0
KINDS = ("trades", "orders", "balances", "nonce")
COUNT = 3  # updates compared per kind


async def compare(sim: Simulator) -> dict[str, int]:
    config = NetworkConfig(api_base=sim.api_url, ws_url=sim.ws_url,
                           fuel_rpc="http://127.0.0.1:1/unused", faucet_url=None)
    ours_client = o2sync.O2Client(ws_url=sim.ws_url, api_url=sim.api_url)
    ours = {"trades": ours_client.stream_trades(PAIR),
            "orders": ours_client.stream_orders(sim.account),
            "balances": ours_client.stream_balances(sim.account),
            "nonce": ours_client.stream_nonce(sim.account)}
    compared = {kind: 0 for kind in KINDS}
    try:
        async with o2_sdk.O2Client(custom_config=config) as client:
            market = await client.get_market(PAIR)
            gens = {"trades": client.stream_trades(market),
                    "orders": client.stream_orders(sim.account),
                    "balances": client.stream_balances(sim.account),
                    "nonce": client.stream_nonce(sim.account)}
            first = {k: asyncio.ensure_future(g.__anext__()) for k, g in gens.items()}
            try:
                both_subscribed = lambda s: all(  # noqa: E731
                    len(s.client_frames(f"subscribe_{k}")) == 2 for k in KINDS)
                assert await asyncio.to_thread(sim.wait_for, both_subscribed, TIMEOUT)
                await asyncio.to_thread(sim.step, 600)
                for kind in KINDS:
                    theirs = [await asyncio.wait_for(first[kind], TIMEOUT)]
                    while len(theirs) < COUNT:
                        theirs.append(await asyncio.wait_for(gens[kind].__anext__(), TIMEOUT))
                    for i, want in enumerate(theirs):
                        got = await asyncio.to_thread(ours[kind].get, TIMEOUT)
                        same(got, want, f"{kind}[{i}]")
                        compared[kind] += 1
            finally:
                for task in first.values():
                    task.cancel()
                for gen in gens.values():
                    await gen.aclose()
    finally:
        ours_client.close()
    return compared


def test_stream_updates_match_o2_sdk() -> None:
    with Simulator(seed=11, start_flow=False) as sim:
        compared = asyncio.run(asyncio.wait_for(compare(sim), 60))
    assert compared == {kind: COUNT for kind in KINDS}
