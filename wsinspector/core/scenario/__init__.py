"""Test files: record, replay and assert. A saved session becomes a repeatable test.

A *test file* (format described in ``docs/test-format.md``) lists steps: messages to send, messages to
expect, waits. This package holds everything about it that needs no network and no Qt, a module per concern:

- :mod:`.model`: the test, its steps, payloads and matchers, frozen and comparable;
- :mod:`.yaml_io`: :func:`~.yaml_io.load` and :func:`~.yaml_io.dump`, the YAML file format, with errors that
  name the line, the column and the field;
- :mod:`.auth_io`: the ``auth`` section (a connection's auth settings, secrets only as variables);
- :mod:`.variables`: expanding ``{{variables}}``, and the unknown ones reported before anything runs, with
  the step that uses them;
- :mod:`.matching`: one received message against an ``expect`` step, with a readable diff and the captures;
- :mod:`.run`: the replay speed, and the runner as a state machine: the caller owns the connection and the
  clock, feeds it what arrives and does what it says (send this, wait until then);
- :mod:`.verdict`: a verdict per step, the run's result and exit code, and the JUnit XML report;
- :mod:`.from_session`: a test built from a recorded session's messages;
- :mod:`.secrets`: credentials kept out of a test made from a session, and masked in what is reported.
"""
