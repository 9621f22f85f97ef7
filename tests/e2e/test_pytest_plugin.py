"""The `telroute` pytest plugin, run the way an app's test suite runs it (pytest's `pytester`): a sample app
test sends an SMS as a Flowroute client does and reads the code back; a message that never comes fails the
test with the filters and what did arrive; the plugin does nothing for tests that do not use it.

All but one run reuse the suite's shared sandbox server through `--telroute-url`; one lets the plugin start
its own server, as an app's suite would, running the README's sample as printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.messaging import admin_token
from tests.support.server import Server

# The plugin drives a sandbox server over HTTP; which database that server uses is not what is tested here.
pytestmark = pytest.mark.sqlite_only

pytest_plugins = ["pytester"]

SAMPLE_APP_TEST = '''
import base64
import json
import urllib.request

CUSTOMER = "13125550123"


def send_login_code(base_url, access_key, secret_key, sender, to):
    """The app under test: sends an SMS the way a Flowroute client does."""
    body = json.dumps({"from": sender, "to": to, "body": "Your login code is 493 817"}).encode()
    credentials = base64.b64encode(f"{access_key}:{secret_key}".encode()).decode()
    request = urllib.request.Request(
        f"{base_url}/v2.1/messages",
        data=body,
        headers={"Content-Type": "application/vnd.api+json", "Authorization": f"Basic {credentials}"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 202


def test_login_sends_a_code(telroute_account):
    send_login_code(
        telroute_account.base_url,
        telroute_account.access_key,
        telroute_account.secret_key,
        telroute_account.number,
        CUSTOMER,
    )
    message = telroute_account.wait_for_message(to=CUSTOMER, contains="login code")
    assert message["attributes"]["from"] == telroute_account.number
    assert telroute_account.otp(to=CUSTOMER) == "493817"
'''


# As an app's suite would run: without this project's other plugins' settings (pytest-asyncio warns unset).
PLAIN = ["-p", "no:cacheprovider", "-p", "no:asyncio"]


def external(server: Server) -> list[str]:
    return [*PLAIN, f"--telroute-url={server.url}", f"--telroute-admin-token={admin_token(server)}"]


def test_a_sample_app_test_reads_its_code_back(pytester: pytest.Pytester, server: Server) -> None:
    pytester.makepyfile(test_app=SAMPLE_APP_TEST)
    result = pytester.runpytest(*external(server))
    result.assert_outcomes(passed=1)


def _readme_sample() -> str:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    return readme.split("```python\n# test_signup.py\n", 1)[1].split("```", 1)[0]


def test_the_plugin_starts_its_own_server_when_given_none(pytester: pytest.Pytester) -> None:
    """The README's sample as printed there: `pytest test_signup.py`, no options, the plugin's own server."""
    pytester.makepyfile(test_signup=_readme_sample())
    result = pytester.runpytest(*PLAIN)
    result.assert_outcomes(passed=2)


def test_a_message_that_never_comes_fails_with_the_filters_and_what_arrived(
    pytester: pytest.Pytester, server: Server
) -> None:
    pytester.makepyfile(
        test_app="""
        def test_waits_in_vain(telroute_account):
            telroute_account.inject_inbound(from_="13125550188", body="hello, no code here")
            telroute_account.wait_for_message(to="13125550199", contains="code", timeout=1)
        """
    )
    result = pytester.runpytest(*external(server))
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "MessageNotArrived" in output
    assert "no message matching to='13125550199', contains='code' within 1 s" in output
    assert "'hello, no code here'" in output and "inbound 13125550188 -> " in output


def test_inbound_messages_and_a_missing_code(pytester: pytest.Pytester, server: Server) -> None:
    pytester.makepyfile(
        test_app="""
        import pytest

        def test_inbound(telroute_account):
            message_id = telroute_account.inject_inbound(from_="13125550188", body="STOP 2468 please")
            found = telroute_account.wait_for_message(direction="inbound", from_="13125550188")
            assert found["id"] == message_id and found["attributes"]["to"] == telroute_account.number
            assert telroute_account.otp(direction="inbound") == "2468"
            telroute_account.inject_inbound(from_="13125550188", body="no digits at all")
            with pytest.raises(AssertionError, match="holds no one-time code: 'no digits at all'"):
                telroute_account.otp(direction="inbound")
            telroute_account.reset()
            assert telroute_account.messages() == []
        """
    )
    result = pytester.runpytest(*external(server))
    result.assert_outcomes(passed=1)


def test_the_accounts_are_deleted_after_each_test(pytester: pytest.Pytester, server: Server) -> None:
    pytester.makepyfile(
        test_app="""
        KEYS = []

        def test_one(telroute_account):
            KEYS.append((telroute_account.access_key, telroute_account.secret_key))

        def test_two(telroute_account, telroute_server):
            assert (telroute_account.access_key, telroute_account.secret_key) not in KEYS
            gone = telroute_server.create_account(numbers=0)
            telroute_server.delete_account(gone.access_key)
            import urllib.error, urllib.request, base64
            old = base64.b64encode(":".join(KEYS[0]).encode()).decode()
            request = urllib.request.Request(
                telroute_server.base_url + "/v2/numbers", headers={"Authorization": "Basic " + old}
            )
            try:
                urllib.request.urlopen(request)
            except urllib.error.HTTPError as exc:
                assert exc.code == 401
            else:
                raise AssertionError("the first test's account still works")
        """
    )
    result = pytester.runpytest(*external(server))
    result.assert_outcomes(passed=2)


def test_the_plugin_is_inert_for_tests_that_do_not_use_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    # No admin token and nothing listening: fine, since no test asks for a telroute fixture.
    result = pytester.runpytest(*PLAIN, "--telroute-url=http://127.0.0.1:9")
    result.assert_outcomes(passed=1)
    pytester.makepyfile(test_needs_token="def test_it(telroute_account):\n    pass\n")
    result = pytester.runpytest(*PLAIN, "--telroute-url=http://127.0.0.1:9", "test_needs_token.py")
    result.assert_outcomes(errors=1)
    assert "--telroute-url needs --telroute-admin-token" in result.stdout.str()


# Each parallel test writes down the account it got; the outer test compares them.
PARALLEL_APP_TEST = (
    SAMPLE_APP_TEST
    + """

import os
import pathlib
from pathlib import Path

import pytest


@pytest.mark.parametrize("round", range(4))
def test_each_gets_an_account_of_its_own(telroute_account, round):
    test_login_sends_a_code(telroute_account)
    assert [message["attributes"]["from"] for message in telroute_account.messages()] == [telroute_account.number]
    seen = pathlib.Path(os.environ["SEEN_DIR"]) / f"{round}"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    seen.write_text(f"{worker} {telroute_account.access_key} {telroute_account.number}")
"""
)


def test_parallel_tests_each_get_their_own_account(
    pytester: pytest.Pytester, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = pytester.mkdir("seen")
    monkeypatch.setenv("SEEN_DIR", str(seen))
    pytester.makepyfile(test_app=PARALLEL_APP_TEST)
    result = pytester.runpytest(*external(server), "-n", "2")
    result.assert_outcomes(passed=5)
    rows = [path.read_text().split() for path in seen.iterdir()]
    assert len(rows) == 4
    assert {worker for worker, _, _ in rows} == {"gw0", "gw1"}
    assert len({key for _, key, _ in rows}) == 4  # (a number a deleted account gave back may be bought again)


def test_a_failing_wait_in_a_parallel_run_says_what_it_waited_for(pytester: pytest.Pytester, server: Server) -> None:
    pytester.makepyfile(
        test_app="""
        import pytest

        @pytest.mark.parametrize("round", range(2))
        def test_waits_in_vain(telroute_account, round):
            telroute_account.inject_inbound(from_="13125550188", body=f"round {round}, no code")
            telroute_account.wait_for_callback(kind="inbound_mms", timeout=0.5)
        """
    )
    result = pytester.runpytest(*external(server), "-n", "2")
    result.assert_outcomes(failed=2)
    output = result.stdout.str()
    assert output.count("CallbackNotTried") >= 2
    assert "no callback matching kind='inbound_mms' within 0.5 s" in output


def test_the_readme_sample_runs_as_printed(pytester: pytest.Pytester, server: Server) -> None:
    pytester.makepyfile(test_signup=_readme_sample())
    result = pytester.runpytest(*external(server))
    result.assert_outcomes(passed=2)
