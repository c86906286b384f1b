"""The protocol mode in a connection's settings: a known mode, and a password only as a variable."""

from __future__ import annotations

import pytest

from wsinspector.core.profiles import ConnectionProfile, Decoding, Endpoint, ProfileError


def _resolved(decoding: Decoding) -> Decoding:
    profile = ConnectionProfile(name="m", endpoint=Endpoint("ws://127.0.0.1:1/"), decoding=decoding,
                                variables=(("pw", "s3cret"),))
    return profile.decoding.resolved(dict(profile.variables))


def test_a_password_option_is_a_variable_and_an_unknown_mode_is_refused():
    assert _resolved(Decoding(mode="mqtt", mode_options=(("password", "{{pw}}"),))).mode_options == (
        ("password", "s3cret"),)
    with pytest.raises(ProfileError, match=r"Protocol option password: give it as a secret variable, e\.g\. \{\{"):
        _resolved(Decoding(mode="mqtt", mode_options=(("password", "s3cret"),)))
    with pytest.raises(ProfileError, match=r"Unknown protocol mode 'xmpp': use auto or one of socket\.io, stomp"):
        _resolved(Decoding(mode="xmpp"))
