"""Twin of ``tplus.model.asset_identifier``."""

from ..asset import AssetIdentifier

__all__ = ["AssetIdentifier"]
