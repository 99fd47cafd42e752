"""The emulator's API routes: every code and message of WIRE.md, in process and on loopback."""

from __future__ import annotations

import re

import pytest
from support.emulator_api import NO_SUCH_POOL, NO_SUCH_USER, NOT_LOGGED_IN, POOL_ID, token_body

pytestmark = pytest.mark.anyio


ISO_MILLIS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
OBJECT_ID = re.compile(r"[0-9a-f]{24}")
RECOVERY_CODE = re.compile(r"[0-9a-f]{4}(-[0-9a-f]{4}){5}")


async def test_token_query_answers_a_token_with_integer_times(emu):
    """The accessToken query answers a JWT with integer exp and iat a token lifetime apart."""
    response = await emu.client.post("/graphql/v2", json=token_body())
    answer = response.json()["data"]["accessToken"]
    assert response.status_code == 200
    assert set(answer) == {"accessToken", "exp", "iat"}
    assert answer["accessToken"].count(".") == 2
    assert type(answer["exp"]) is int
    assert type(answer["iat"]) is int
    assert answer["exp"] - answer["iat"] == 7 * 86400


@pytest.mark.parametrize(
    ("pool_id", "secret", "code", "message"),
    [
        ("000000000000000000000000", "pool-secret-0123456789abcdef", 2224, "用户池不存在"),
        (POOL_ID, "wrong", 1001, "用户池密钥错误"),
    ],
)
async def test_token_query_refuses_bad_credentials_graphql_style(
    emu, pool_id, secret, code, message
):
    """A wrong pool id or secret answers the GraphQL error shape of WIRE.md."""
    response = await emu.client.post("/graphql/v2", json=token_body(pool_id, secret))
    assert response.status_code == 200
    assert response.json() == {
        "errors": [
            {
                "message": {"code": code, "message": message},
                "extensions": {"code": "INTERNAL_SERVER_ERROR"},
            }
        ],
        "data": None,
    }


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{ accessToken }"},
        {"variables": {"userPoolId": POOL_ID, "secret": "x"}},
        {"query": "query { accessToken }", "variables": {"userPoolId": POOL_ID}},
        [],
    ],
)
async def test_token_query_without_its_variables_is_a_bad_request(emu, body):
    """A token request lacking the query or its variables is answered HTTP 400 with errors."""
    response = await emu.client.post("/graphql/v2", json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"]["code"] == 400
    assert emu.emulator.token_requests == 1


async def test_status_of_a_user_without_mfa(emu):
    """A new user has neither FACE nor OTP bound."""
    response = await emu.get_status("alice")
    assert response.status_code == 200
    assert response.json() == {
        "code": 200,
        "message": "查询成功",
        "data": {"FACE": False, "OTP": False},
    }


async def test_import_answers_the_record_of_wire_md(emu):
    """Importing a key answers the record with Authing's fields, formats and source SELF."""
    response = await emu.import_totp({"userId": "alice", "secret": "JBSWY3DPEHPK3PXP"})
    envelope = response.json()
    record = envelope["data"]
    assert (response.status_code, envelope["code"]) == (200, 200)
    assert envelope["message"] == "添加 TOTP 验证器成功"
    assert list(record) == [
        "userId",
        "enable",
        "secret",
        "authenticatorType",
        "recoveryCode",
        "createdAt",
        "updatedAt",
        "id",
        "source",
    ]
    assert record["userId"] == "alice"
    assert record["enable"] is True
    assert record["secret"] == "JBSWY3DPEHPK3PXP"
    assert record["authenticatorType"] == "totp"
    assert RECOVERY_CODE.fullmatch(record["recoveryCode"])
    assert ISO_MILLIS.fullmatch(record["createdAt"])
    assert record["updatedAt"] == record["createdAt"]
    assert OBJECT_ID.fullmatch(record["id"])
    assert record["source"] == "SELF"


async def test_import_binds_otp(emu):
    """After an import the user's status shows OTP bound."""
    await emu.import_totp({"userId": "alice", "secret": "JBSWY3DPEHPK3PXP"})
    response = await emu.get_status("alice")
    assert response.json()["data"] == {"FACE": False, "OTP": True}


async def test_import_keeps_a_given_recovery_code(emu):
    """A recovery code given to the import is the one stored and answered."""
    body = {"userId": "alice", "secret": "JBSWY3DPEHPK3PXP", "recoveryCode": "my-code"}
    response = await emu.import_totp(body)
    assert response.json()["data"]["recoveryCode"] == "my-code"
    assert emu.emulator.user("alice")["totp"]["recoveryCode"] == "my-code"


async def test_reimport_replaces_the_key_and_keeps_the_id(emu):
    """Importing again replaces secret and updatedAt but keeps id and createdAt."""
    first = (await emu.import_totp({"userId": "alice", "secret": "AAAAAAAA"})).json()["data"]
    second = (await emu.import_totp({"userId": "alice", "secret": "BBBBBBBB"})).json()["data"]
    assert second["id"] == first["id"]
    assert second["createdAt"] == first["createdAt"]
    assert second["updatedAt"] > first["updatedAt"]
    assert second["secret"] == "BBBBBBBB"
    assert emu.emulator.user("alice")["totp"]["secret"] == "BBBBBBBB"


async def test_import_does_not_check_base32(emu):
    """Like Authing, the import accepts a secret that is not base32."""
    response = await emu.import_totp({"userId": "alice", "secret": "123456"})
    assert response.json()["code"] == 200


@pytest.mark.parametrize(
    "body",
    [
        {"secret": "JBSWY3DPEHPK3PXP"},
        {"userId": "", "secret": "JBSWY3DPEHPK3PXP"},
        {"userId": "alice"},
        {"userId": "alice", "secret": ""},
        {"userId": "alice", "secret": 12345},
        {"userId": "alice", "secret": "JBSWY3DPEHPK3PXP", "recoveryCode": 1},
        ["alice", "JBSWY3DPEHPK3PXP"],
    ],
)
async def test_import_with_a_missing_field_is_code_400(emu, body):
    """An import without userId or secret is answered code 400, HTTP 400."""
    response = await emu.import_totp(body)
    assert response.status_code == 400
    assert response.json()["code"] == 400
    assert emu.emulator.user("alice")["totp"] is None


async def test_import_for_an_unknown_user_is_code_2004(emu):
    """Importing a key for a user the pool lacks answers 2004 用户不存在."""
    response = await emu.import_totp({"userId": "nobody", "secret": "JBSWY3DPEHPK3PXP"})
    assert (response.status_code, response.json()) == (200, NO_SUCH_USER)


async def test_status_of_an_unknown_user_is_code_2004(emu):
    """Asking the status of a user the pool lacks answers 2004 用户不存在."""
    response = await emu.get_status("nobody")
    assert (response.status_code, response.json()) == (200, NO_SUCH_USER)


async def test_unbinding_otp_removes_the_key(emu):
    """Unbinding OTP answers 解绑成功, unbinds it and forgets the key."""
    await emu.import_totp({"userId": "alice", "secret": "JBSWY3DPEHPK3PXP"})
    response = await emu.unbind("alice", "type=OTP")
    assert response.json() == {"code": 200, "message": "解绑成功", "data": None}
    assert (await emu.get_status("alice")).json()["data"]["OTP"] is False
    assert emu.emulator.user("alice")["totp"] is None


async def test_unbinding_face_keeps_the_totp_key(emu):
    """Unbinding another factor leaves the TOTP key in place."""
    await emu.import_totp({"userId": "alice", "secret": "JBSWY3DPEHPK3PXP"})
    response = await emu.unbind("alice", "type=FACE")
    assert response.json()["code"] == 200
    assert emu.emulator.user("alice")["mfaBound"]["OTP"] is True


@pytest.mark.parametrize("factor", ["SMS", "EMAIL", "OTP", "FACE", "FINGERPRINT", "TOTP"])
async def test_unbind_accepts_every_documented_type(emu, factor):
    """Each type the API docs list is accepted by unbind."""
    response = await emu.unbind("alice", f"type={factor}")
    assert response.json()["code"] == 200


@pytest.mark.parametrize("query", ["type=otp", "type=BOGUS", "", "kind=OTP", "type="])
async def test_unbind_with_a_bad_type_is_code_400(emu, query):
    """A missing or unknown type is answered code 400, HTTP 400."""
    response = await emu.unbind("alice", query)
    assert response.status_code == 400
    assert response.json()["code"] == 400


async def test_unbind_for_an_unknown_user_is_code_2004(emu):
    """Unbinding for a user the pool lacks answers 2004 用户不存在."""
    response = await emu.unbind("nobody", "type=OTP")
    assert response.json() == NO_SUCH_USER


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer"},
        {"authorization": "Bearer not-a-jwt"},
        {"authorization": "Bearer a.b.c"},
        {"authorization": "Basic dXNlcjpwYXNz"},
    ],
)
async def test_a_missing_or_malformed_token_is_code_2020(emu, headers):
    """REST calls without a valid bearer token answer 2020 with HTTP 200."""
    response = await emu.client.get(
        "/api/v2/users/alice/mfa-bound", headers={"x-authing-userpool-id": POOL_ID, **headers}
    )
    assert (response.status_code, response.json()) == (200, NOT_LOGGED_IN)


@pytest.mark.parametrize("pool_header", [None, "000000000000000000000000"])
async def test_a_missing_or_other_pool_header_is_code_2224(emu, pool_header):
    """A REST call whose x-authing-userpool-id is absent or another pool's answers 2224."""
    headers = await emu.headers()
    if pool_header is None:
        del headers["x-authing-userpool-id"]
    else:
        headers["x-authing-userpool-id"] = pool_header
    response = await emu.client.get("/api/v2/users/alice/mfa-bound", headers=headers)
    assert (response.status_code, response.json()) == (200, NO_SUCH_POOL)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v2/users"),
        ("GET", "/api/v2/users//mfa-bound"),
        ("GET", "/api/v2/users/alice/mfa"),
        ("GET", "/api/v3/users/alice/mfa-bound"),
        ("POST", "/api/v2/mfa/totp"),
        ("GET", "/"),
    ],
)
async def test_an_unknown_route_is_404_with_an_envelope(emu, method, path):
    """Paths the API does not have answer HTTP 404 with an envelope, code 404."""
    response = await emu.client.request(method, path, headers=await emu.headers())
    assert response.status_code == 404
    assert response.json() == {"code": 404, "message": f"Cannot {method} {path}", "data": None}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/graphql/v2", "POST"),
        ("GET", "/api/v2/mfa/totp/import", "POST"),
        ("POST", "/api/v2/users/alice/mfa-bound", "GET, DELETE"),
    ],
)
async def test_a_wrong_method_is_405(emu, method, path, allowed):
    """A known path with a method it does not take answers 405 naming the allowed ones."""
    response = await emu.client.request(method, path, headers=await emu.headers())
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.json()["code"] == 405


async def test_every_answer_has_its_own_request_id(emu):
    """Each answer carries an x-request-id, different for every request."""
    headers = await emu.headers()
    responses = [
        await emu.client.get("/api/v2/users/alice/mfa-bound", headers=headers) for _ in range(3)
    ]
    responses.append(await emu.client.get("/nowhere"))
    ids = {response.headers["x-request-id"] for response in responses}
    assert len(ids) == 4
    assert all(ids)


@pytest.mark.parametrize(
    ("user_id", "raw"),
    [
        ("a/b", "a%2Fb"),
        ("%2F", "%252F"),
        ("a?b", "a%3Fb"),
        ("../x", "..%2Fx"),
        ("张三", "%E5%BC%A0%E4%B8%89"),
        ("a b", "a%20b"),
    ],
)
async def test_a_path_segment_is_decoded_exactly_once(emu, user_id, raw):
    """An encoded user id reaches the user whose id is the segment decoded once."""
    emu.emulator.add_users([user_id])
    await emu.import_totp({"userId": user_id, "secret": "JBSWY3DPEHPK3PXP"})
    response = await emu.get_status(raw)
    assert response.json()["data"] == {"FACE": False, "OTP": True}
    assert emu.emulator.requests()[-1]["path"] == f"/api/v2/users/{raw}/mfa-bound"


async def test_a_segment_decoded_twice_would_miss_the_user(emu):
    """The id ``a%2Fb`` is not found by asking for the raw ``a%2Fb``, which means ``a/b``."""
    emu.emulator.add_users(["a%2Fb"])
    response = await emu.get_status("a%2Fb")
    assert response.json() == NO_SUCH_USER


async def test_a_segment_that_is_not_utf8_is_code_400(emu):
    """A user id segment whose bytes are not UTF-8 is a bad parameter."""
    response = await emu.get_status("%FF")
    assert response.json()["code"] == 400


async def test_pool_header_is_checked_before_the_token(emu):
    """A request with another pool's header is refused 2224 even with a good token."""
    headers = {**(await emu.headers()), "x-authing-userpool-id": POOL_ID[::-1]}
    response = await emu.client.get("/api/v2/users/alice/mfa-bound", headers=headers)
    assert response.json()["code"] == 2224
