"""O2 networks and their endpoints."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional


class Network(enum.Enum):
    """A public O2 deployment. Testnet (faucet tokens, ``fFUEL/fUSDC``) is for testing."""

    MAINNET = "mainnet"
    TESTNET = "testnet"
    DEVNET = "devnet"

    @property
    def api_url(self) -> str:
        """REST base URL."""
        host = "api.o2.app" if self is Network.MAINNET else f"api.{self.value}.o2.app"
        return f"https://{host}"

    @property
    def ws_url(self) -> str:
        """WebSocket URL (``/v1/ws``)."""
        return self.api_url.replace("https://", "wss://", 1) + "/v1/ws"


@dataclass(frozen=True)
class NetworkConfig:
    """Endpoints of one O2 deployment, as o2-sdk's ``NetworkConfig`` (pass one as
    ``O2Client(custom_config=...)`` for a custom deployment or the simulator)."""

    api_base: str
    ws_url: str
    fuel_rpc: str
    faucet_url: Optional[str]
    whitelist_required: bool = False


_FUEL_RPC = {Network.MAINNET: "https://mainnet.fuel.network/v1/graphql",
             Network.TESTNET: "https://testnet.fuel.network/v1/graphql",
             Network.DEVNET: "https://devnet.fuel.network/v1/graphql"}
_FAUCET = {Network.TESTNET: "https://fuel-o2-faucet.vercel.app/api/testnet/mint-v2",
           Network.DEVNET: "https://fuel-o2-faucet.vercel.app/api/devnet/mint-v2"}


def get_config(network: Network) -> NetworkConfig:
    """The endpoints of a public network."""
    if not isinstance(network, Network):
        raise TypeError(f"network must be a Network, got {network!r}")
    return NetworkConfig(network.api_url, network.ws_url, _FUEL_RPC[network],
                         _FAUCET.get(network))
