"""The auth record checked and expanded, applied to the handshake, and the answers of the requests before a
connect read: what a user sees in the request the server gets, and in the message when it goes wrong."""

from __future__ import annotations

import base64
import json
from dataclasses import fields

import pytest

from wsinspector.core.auth import (
    AuthError,
    HttpResponse,
    Token,
    TokenCache,
    apply_auth,
    captures_from,
    login_request,
    parse_cookie_header,
    parse_token,
    token_request,
)
from wsinspector.core.profiles import Auth as AuthRecord
from wsinspector.core.profiles import (
    ConnectionProfile,
    Endpoint,
    Handshake,
    ProfileError,
    UnknownVariableError,
    profile_from_json,
    profile_to_json,
)


def target(auth: AuthRecord, url: str = "ws://127.0.0.1:9/ws", headers: tuple[tuple[str, str], ...] = (),
           variables: tuple[tuple[str, str], ...] = (), extra: dict[str, str] | None = None):
    profile = ConnectionProfile(name="t", endpoint=Endpoint(url), handshake=Handshake(headers=headers), auth=auth,
                                variables=variables)
    return profile.resolved({**dict(variables), **(extra or {})})


def header(resolved, name: str) -> str | None:
    return next((v for k, v in resolved.handshake.headers if k.lower() == name.lower()), None)


def test_basic_auth_encodes_user_and_password_from_variables():
    resolved = apply_auth(target(AuthRecord(kind="basic", username="ann", password="{{pw}}"),
                                 variables=(("pw", "s3cret é"),)))
    assert header(resolved, "Authorization") == "Basic " + base64.b64encode("ann:s3cret é".encode()).decode()


def test_bearer_replaces_an_authorization_header_the_user_typed():
    resolved = apply_auth(target(AuthRecord(kind="bearer", token="{{token}}"), headers=(("authorization", "old"),),
                                 extra={"token": "abc"}))
    assert [h for h in resolved.handshake.headers if h[0].lower() == "authorization"] == [
        ("Authorization", "Bearer abc")]


def test_api_key_as_query_parameter_is_percent_encoded_and_keeps_the_query():
    auth = AuthRecord(kind="api_key", api_key_name="api key", api_key_value="a&b=c d/é", api_key_in="query")
    assert apply_auth(target(auth, url="ws://h:1/ws?x=1")).url == "ws://h:1/ws?x=1&api%20key=a%26b%3Dc%20d%2F%C3%A9"
    assert apply_auth(target(auth, url="ws://h:1/ws")).url.startswith("ws://h:1/ws?api%20key=")


def test_api_key_as_header():
    resolved = apply_auth(target(AuthRecord(kind="api_key", api_key_name="X-Api-Key", api_key_value="k1")))
    assert header(resolved, "X-Api-Key") == "k1"


def test_cookies_merge_with_a_typed_cookie_header():
    resolved = apply_auth(target(AuthRecord(cookies="sid={{sid}}; theme=dark"),
                                 headers=(("Cookie", "theme=light; lang=en"),), variables=(("sid", "42"),)))
    assert header(resolved, "Cookie") == "theme=dark; lang=en; sid=42"
    assert len([h for h in resolved.handshake.headers if h[0].lower() == "cookie"]) == 1


def test_pasted_browser_cookie_header():
    assert parse_cookie_header("Cookie: a=1; b=x=y;\n c=") == (("a", "1"), ("b", "x=y"), ("c", ""))
    with pytest.raises(AuthError, match="'oops' is not name=value"):
        parse_cookie_header("a=1; oops")


@pytest.mark.parametrize(("auth", "message"), [
    (AuthRecord(kind="basic"), "Basic auth needs a user name"),
    (AuthRecord(kind="bearer", token=" "), "Bearer auth needs a token"),
    (AuthRecord(kind="api_key", api_key_value="v"), "needs a name"),
    (AuthRecord(kind="api_key", api_key_name="Upgrade", api_key_value="v"), "set by the WebSocket handshake"),
    (AuthRecord(kind="oauth2_client_credentials", token_url="ftp://x/", client_id="c"), "http:// or https://"),
    (AuthRecord(kind="oauth2_client_credentials", token_url="https://x/"), "client id"),
    (AuthRecord(kind="magic"), "Unknown auth kind 'magic'"),
    (AuthRecord(login_url="https://x/login", login_captures=(("1bad", "token"),)), "not a variable name"),
    (AuthRecord(login_url="https://x/login", login_captures=(("t", "items[*]"),)), "not a wildcard"),
    (AuthRecord(login_url="x/login"), "Pre-connect request URL 'x/login' must start with http"),
])
def test_invalid_settings_say_what_is_wrong(auth, message):
    with pytest.raises(ProfileError, match=message):
        target(auth)


def test_unknown_variable_in_a_secret_field_is_named():
    with pytest.raises(UnknownVariableError, match="token"):
        target(AuthRecord(kind="bearer", token="{{token}}"))


def test_the_fields_of_another_kind_are_not_expanded():
    target(AuthRecord(kind="none", token="{{nowhere}}"))


def test_secret_fields_are_marked_and_the_record_round_trips_as_json():
    secret = {f.name for f in fields(AuthRecord) if f.metadata.get("secret")}
    assert secret == {"password", "token", "api_key_value", "client_secret", "cookies", "login_body"}
    profile = ConnectionProfile(name="p", auth=AuthRecord(kind="api_key", api_key_name="k", login_url="http://h/",
                                                          login_captures=(("token", "data.token"),)))
    assert profile_from_json(profile.id, profile_to_json(profile)).auth == profile.auth


def test_login_request_and_its_captures():
    resolved = target(AuthRecord(login_url="http://h:1/login?key=zzz", login_body='{"user": "{{user}}"}',
                                 login_captures=(("token", "data.token"), ("uid", "$.data.id"))),
                      variables=(("user", "ann"),))
    request = login_request(resolved.auth)
    assert request is not None
    assert request.body == b'{"user": "ann"}'
    assert ("Content-Type", "application/json") in request.headers
    assert "key=REDACTED" in request.title
    answer = HttpResponse(200, "OK", (), json.dumps({"data": {"token": "T1", "id": 7}}).encode())
    assert captures_from(request, answer, resolved.auth.login_captures) == {"token": "T1", "uid": "7"}
    with pytest.raises(AuthError, match=r"answered HTTP 401 Unauthorized: \"no\""):
        captures_from(request, HttpResponse(401, "Unauthorized", (), b"no"), resolved.auth.login_captures)
    with pytest.raises(AuthError, match=r"not JSON \(text/html\)"):
        captures_from(request, HttpResponse(200, "OK", (("Content-Type", "text/html"),), b"<html>"),
                      resolved.auth.login_captures)
    with pytest.raises(AuthError, match=r"has no \$\.data\.token for \{\{token\}\}"):
        captures_from(request, HttpResponse(200, "OK", (), b'{"data": {}}'), resolved.auth.login_captures)


@pytest.mark.parametrize(("value", "kind"), [('{"a": 1}', "an object"), ("[1, 2]", "a list"), ("null", "null")])
def test_a_capture_that_is_not_one_value_is_refused(value: str, kind: str):
    resolved = target(AuthRecord(login_url="http://h:1/login", login_captures=(("tok", "data.token"),)))
    request = login_request(resolved.auth)
    assert request is not None
    answer = HttpResponse(200, "OK", (), f'{{"data": {{"token": {value}}}}}'.encode())
    with pytest.raises(AuthError, match=rf"^Pre-connect request POST http://h:1/login: \$\.data\.token is {kind}, "
                                        r"not a string \(for \{\{tok\}\}\)$"):
        captures_from(request, answer, resolved.auth.login_captures)


def test_a_number_or_a_boolean_capture_is_taken_as_its_text():
    resolved = target(AuthRecord(login_url="http://h:1/login", login_captures=(("n", "n"), ("b", "b"), ("f", "f"))))
    request = login_request(resolved.auth)
    assert request is not None
    answer = HttpResponse(200, "OK", (), b'{"n": 5, "b": true, "f": 1.5}')
    assert captures_from(request, answer, resolved.auth.login_captures) == {"n": "5", "b": "true", "f": "1.5"}


def test_token_request_and_answer():
    resolved = target(AuthRecord(kind="oauth2_client_credentials", token_url="https://h/token", client_id="app:1",
                                 client_secret="{{secret}}", scope="read write"), variables=(("secret", "s&p"),))
    request = token_request(resolved.auth)
    assert request is not None
    assert request.body == b"grant_type=client_credentials&scope=read+write"
    assert ("Authorization", "Basic " + base64.b64encode(b"app%3A1:s%26p").decode()) in request.headers
    assert parse_token(request, HttpResponse(200, "OK", (), b'{"access_token": "A", "expires_in": "60"}')) == \
        Token("A", 60.0)
    with pytest.raises(AuthError, match="invalid_client: bad secret"):
        parse_token(request, HttpResponse(
            401, "", (), b'{"error": "invalid_client", "error_description": "bad secret"}'))
    with pytest.raises(AuthError, match="no access_token"):
        parse_token(request, HttpResponse(200, "OK", (), b'{"token": "A"}'))


def test_oauth_needs_its_token_to_be_applied():
    resolved = target(AuthRecord(kind="oauth2_client_credentials", token_url="https://h/t", client_id="c"))
    with pytest.raises(AuthError, match="no access token"):
        apply_auth(resolved)
    assert header(apply_auth(resolved, "tok"), "Authorization") == "Bearer tok"


def test_token_cache_until_shortly_before_expiry():
    auth = AuthRecord(kind="oauth2_client_credentials", token_url="https://h/t", client_id="c")
    cache = TokenCache(margin_s=30)
    cache.put(auth, Token("A", 300), now=1000)
    assert cache.get(auth, 1269) == "A"
    assert cache.get(auth, 1270) is None
    cache.put(auth, Token("B", 10), now=0)  # a short life: half of it is the margin
    assert cache.get(auth, 4.9) == "B"
    assert cache.get(auth, 5.0) is None
    cache.put(auth, Token("C", None), now=0)  # no lifetime given: not kept
    assert cache.get(auth, 0) is None
    cache.put(auth, Token("D", 300), now=0)
    assert cache.get(AuthRecord(kind="oauth2_client_credentials", token_url="https://h/t", client_id="c",
                                client_secret="other"), 1) is None


def test_an_api_key_in_the_query_is_redacted_whatever_its_name():
    from wsinspector.core.auth import redacted_url

    resolved = apply_auth(target(AuthRecord(kind="api_key", api_key_name="x", api_key_value="k 1",
                                            api_key_in="query"), url="ws://h:1/?room=2"))
    assert resolved.url == "ws://h:1/?room=2&x=k%201"
    assert redacted_url(resolved) == "ws://h:1/?room=2&x=REDACTED"


def test_settings_are_checked_before_anything_is_sent_with_stand_ins_for_what_the_login_gives():
    from wsinspector.core.auth import checked_target, prepared_target, used_fields

    profile = ConnectionProfile(name="p", endpoint=Endpoint("ws://h:1/?u={{uid}}"),
                                auth=AuthRecord(kind="bearer", token="{{token}}", login_url="http://h:2/login",
                                                login_captures=(("token", "data.token"), ("uid", "data.id"))))
    with pytest.raises(UnknownVariableError):
        profile.resolved()
    checked_target(profile)
    with pytest.raises(ProfileError, match="Enter a URL"):
        checked_target(profile.with_changes(endpoint={"url": ""}))
    ready = prepared_target(profile, {"token": "T", "uid": "9"}, "", variables={"uid": "overridden"})
    assert ready.url == "ws://h:1/?u=9" and header(ready, "Authorization") == "Bearer T"
    assert used_fields(profile.auth) == ("kind", "token", "cookies", "login_method", "login_url", "login_headers",
                                         "login_body", "login_captures")


@pytest.mark.parametrize(("value", "says"), [
    ("tok\x01-s3cret", "a control character (U+0001)"),
    ("tok\x00-s3cret", "a control character (U+0000)"),
    ("tok\x7f-s3cret", "a control character (U+007F)"),
    ("tok☃-s3cret", "the character “☃” (U+2603)"),
])
def test_a_value_no_header_can_carry_stops_the_connect_without_showing_it(value: str, says: str):
    """A token a login captured (or a variable gave) with a character HTTP cannot carry: the header is named,
    and what is wrong with it; the value, a credential, is not shown."""
    from wsinspector.core.auth import prepared_target

    profile = ConnectionProfile(name="p", endpoint=Endpoint("ws://h:1/"),
                                auth=AuthRecord(kind="bearer", token="{{token}}", login_url="http://h:2/login",
                                                login_captures=(("token", "data.token"),)))
    with pytest.raises(ProfileError) as info:
        prepared_target(profile, {"token": value}, "")
    assert "'Authorization'" in str(info.value) and says in str(info.value)
    assert "s3cret" not in str(info.value)
    typed = ConnectionProfile(name="p", endpoint=Endpoint("ws://h:1/"),
                              handshake=Handshake(headers=(("X-Trace", "{{v}}"),)), variables=(("v", value),))
    with pytest.raises(ProfileError, match=f"'X-Trace' has {says.split(' (', maxsplit=1)[0]}"):
        typed.resolved()
    assert prepared_target(profile, {"token": "tok\t-é-ok"}, "").handshake.headers == (
        ("Authorization", "Bearer tok\t-é-ok"),), "a tab and Latin-1 are HTTP's"
