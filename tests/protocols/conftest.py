"""The real servers of tests/decoders/test_real_peers.py (mosquitto, the node peers), for the protocol sessions."""

from tests.decoders.test_real_peers import mosquitto, node_server  # noqa: F401
