"""O2 networks and their endpoints."""

from __future__ import annotations

import enum


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
