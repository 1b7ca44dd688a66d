"""Marketplace connectors. Importing this package registers every connector."""
from helpdesk.marketplace import shopify, woocommerce  # noqa: F401  (register)
from helpdesk.marketplace.base import connector_class, registered_kinds

__all__ = ["connector_class", "registered_kinds"]
