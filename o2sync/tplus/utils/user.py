"""Twin of ``tplus.utils.user``: ``from o2sync.tplus.utils.user import User, load_user``."""

from ..auth import User, load_user

__all__ = ["User", "load_user"]
