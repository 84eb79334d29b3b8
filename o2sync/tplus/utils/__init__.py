"""Import-path twins of tpluspy's ``tplus.utils`` (re-exports only)."""
