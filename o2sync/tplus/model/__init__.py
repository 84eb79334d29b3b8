"""Import-path twins of tpluspy's ``tplus.model`` (re-exports only)."""
