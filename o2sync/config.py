"""``from o2sync.config import Network, NetworkConfig, get_config``: the twin of
``o2_sdk.config`` (see :mod:`o2sync.o2.network`)."""

from .o2.network import Network, NetworkConfig, get_config

__all__ = ["Network", "NetworkConfig", "get_config"]
