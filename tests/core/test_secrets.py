"""Which settings of a connection are secret, how they leave the stored form and come back, the keeper keys and
the environment variables that can give them."""

from __future__ import annotations

import json

import pytest

from wsinspector.core.profiles import (
    ConnectionProfile,
    Endpoint,
    Handshake,
    MissingSecretsError,
    Proxy,
    Tls,
    profile_from_json,
    profile_to_json,
)
from wsinspector.core.secrets import (
    MemoryKeeper,
    connection_key,
    environment_name,
    masked,
    secret_values,
    with_secret_values,
)


def _profile() -> ConnectionProfile:
    return ConnectionProfile(
        name="p", id="ab12", endpoint=Endpoint("ws://127.0.0.1:9/"),
        handshake=Handshake(headers=(("Cookie", "a=1"), ("X-Trace", "7"), ("cookie", "b=2")),
                            secret_headers=("COOKIE",)),
        variables=(("token", "t0k"), ("region", "eu")), secret_variables=("token",),
        tls=Tls(passphrase="pp"), proxy=Proxy(password=""))


def test_secret_values_are_the_marked_fields_variables_and_headers() -> None:
    assert secret_values(_profile()) == {
        "headers/Cookie": "a=1", "headers/cookie#2": "b=2", "tls.passphrase": "pp", "proxy.password": "",
        "auth.password": "", "auth.token": "", "auth.api_key_value": "", "auth.client_secret": "",
        "auth.cookies": "", "auth.login_body": "", "variables/token": "t0k"}


def test_the_stored_form_names_the_secrets_but_holds_none() -> None:
    text = profile_to_json(_profile())
    for value in ("a=1", "b=2", "pp", "t0k"):
        assert value not in repr(json.loads(text))
    stored = profile_from_json("ab12", text)
    assert stored.kept_secrets == ("headers/Cookie", "headers/cookie#2", "tls.passphrase", "variables/token")
    assert dict(stored.variables) == {"token": "", "region": "eu"}
    assert stored.handshake.headers == (("Cookie", ""), ("X-Trace", "7"), ("cookie", ""))
    with pytest.raises(MissingSecretsError) as missing:
        stored.resolved()
    assert missing.value.paths == list(stored.kept_secrets)
    message = str(missing.value)
    assert message.count("WSINSPECTOR_SECRET_HEADER_COOKIE") == 1  # named once for both Cookie headers
    assert "WSINSPECTOR_SECRET_TLS_PASSPHRASE" in message and "WSINSPECTOR_SECRET_TOKEN" in message

    keeper = MemoryKeeper()
    for path, value in secret_values(_profile()).items():
        keeper.set(connection_key("ab12", path), value)
    filled = with_secret_values(stored, {path: value for path in stored.kept_secrets
                                         if (value := keeper.get(connection_key("ab12", path))) is not None})
    assert filled == _profile().with_changes(kept_secrets=stored.kept_secrets)
    filled.resolved()


@pytest.mark.parametrize("key, name", [
    ("connection/ab12/variables/token", "WSINSPECTOR_SECRET_TOKEN"),
    ("connection/ab12/headers/X-Api-Key#2", "WSINSPECTOR_SECRET_HEADER_X_API_KEY"),
    ("connection/ab12/tls.passphrase", "WSINSPECTOR_SECRET_TLS_PASSPHRASE"),
    ("connection/ab12/auth.password", "WSINSPECTOR_SECRET_AUTH_PASSWORD"),
    ("environment/cd34/api.key", "WSINSPECTOR_SECRET_API_KEY"),
    ("globals/refreshToken", "WSINSPECTOR_SECRET_REFRESHTOKEN"),
])
def test_the_environment_variable_of_a_secret(key: str, name: str) -> None:
    assert environment_name(key) == name


def test_masked_replaces_the_longest_values_first() -> None:
    assert masked("a=secret-long&b=secret", ["secret", "secret-long", ""], "X") == "a=X&b=X"


def test_a_value_that_only_names_variables_is_kept_with_the_connection() -> None:
    """``Bearer {{token}}`` holds no secret (``{{token}}`` does): it stays in the stored form, so a connection
    whose values live in the keyring or an environment still knows where they go; a literal next to a variable
    is a secret again."""
    profile = ConnectionProfile(
        name="p", id="ab12", endpoint=Endpoint("ws://127.0.0.1:9/"),
        handshake=Handshake(headers=(("Authorization", "Bearer {{ token }}"), ("Cookie", "sid=1; {{more}}")),
                            secret_headers=("Authorization", "Cookie")),
        variables=(("token", "{{vault_token}}"), ("key", "k-1")), secret_variables=("token", "key"),
        tls=Tls(passphrase="{{pass}}"))
    assert secret_values(profile) == {"headers/Cookie": "sid=1; {{more}}", "proxy.password": "", "auth.password": "",
                                      "auth.token": "", "auth.api_key_value": "", "auth.client_secret": "",
                                      "auth.cookies": "", "auth.login_body": "", "variables/key": "k-1"}
    stored = profile_from_json("ab12", profile_to_json(profile))
    assert stored.handshake.headers == (("Authorization", "Bearer {{ token }}"), ("Cookie", ""))
    assert dict(stored.variables) == {"token": "{{vault_token}}", "key": ""}
    assert stored.tls.passphrase == "{{pass}}"
    assert stored.kept_secrets == ("headers/Cookie", "variables/key")
    assert with_secret_values(stored, secret_values(profile)) == profile.with_changes(kept_secrets=stored.kept_secrets)
