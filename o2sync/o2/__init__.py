"""The O2 Exchange venue: client facade, wire protocol, decoding, REST, markets."""
