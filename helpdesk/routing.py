"""URL converters."""
from werkzeug.routing import IntegerConverter

MAX_ID = 2**63 - 1  # BIGINT, the largest id either database stores


class IdConverter(IntegerConverter):
    """``<id:name>``: a positive row id no larger than a BIGINT. Anything else is a 404,
    never an overflow in the database driver."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)
