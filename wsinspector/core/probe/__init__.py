"""The endpoint probe: bounded cases that measure what an endpoint does (the comparison table's row), as
sans-I/O state machines (``steps.py``, ``cases.py``), and the row, its stored form and its tables (``row.py``)."""
