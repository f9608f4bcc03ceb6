"""The cross-protocol clearinghouse ``[mechanisms.clearinghouse]`` (see ``README.md``)."""
