"""Mock servers: rules files (``docs/mock.md``) read into a :class:`~wsinspector.core.mock.model.MockRules`, and
the per-client state machine that says what to send and when (:class:`~wsinspector.core.mock.session.MockSession`).
No I/O and no clock of its own: the caller passes the time and does what it is told."""
