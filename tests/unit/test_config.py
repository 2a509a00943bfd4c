"""Bad settings stop the program at start with a message that names the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from autoinvest import config
from autoinvest.errors import ConfigError


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AUTOINVEST_") and k != "DATABASE_URL"}
    return subprocess.run([sys.executable, "-m", "autoinvest.cli", *args], env=base | env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("env", "variable", "reason"), [
    ({"AUTOINVEST_HOME": "/proc/autoinvest-cannot-be-here"}, "AUTOINVEST_HOME", "CONFIG_HOME_UNWRITABLE"),
    ({"DATABASE_URL": "mysql://root@localhost/db"}, "DATABASE_URL", "CONFIG_INVALID_VALUE"),
    ({"DATABASE_URL": "not a url"}, "DATABASE_URL", "CONFIG_INVALID_VALUE"),
    ({"AUTOINVEST_HTTP_PORT": "eighty"}, "AUTOINVEST_HTTP_PORT", "CONFIG_INVALID_VALUE"),
    ({"AUTOINVEST_ACCESS_WINDOW_MS": "70000"}, "AUTOINVEST_ACCESS_WINDOW_MS", "CONFIG_INVALID_VALUE"),
    ({"AUTOINVEST_NO_SUCH_THING": "1"}, "AUTOINVEST_NO_SUCH_THING", "CONFIG_UNKNOWN_KEY"),
    # The resolver must wait out the signing window plus the fence's skew bound (10 + 5 s by default).
    ({"AUTOINVEST_RESOLVER_GRACE_S": "14"}, "AUTOINVEST_RESOLVER_GRACE_S", "CONFIG_RESOLVER_GRACE_TOO_SHORT"),
    ({"AUTOINVEST_CLOCK_SKEW_BOUND_MS": "6000"}, "AUTOINVEST_RESOLVER_GRACE_S", "CONFIG_RESOLVER_GRACE_TOO_SHORT"),
])
def test_bad_settings_exit_non_zero_naming_the_variable(env: dict[str, str], variable: str, reason: str,
                                                       tmp_path: Path) -> None:
    result = _cli({"AUTOINVEST_HOME": str(tmp_path)} | env, "db", "status")
    assert result.returncode == 2
    assert variable in result.stderr and reason in result.stderr
    assert "Traceback" not in result.stderr


def test_a_secret_in_a_bad_setting_is_not_echoed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AUTOINVEST_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "mysql://root:hunter2-secret@localhost/db")
    with pytest.raises(ConfigError) as info:
        config.load_settings()
    assert "hunter2-secret" not in str(info.value)


def test_good_settings_load_with_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("AUTOINVEST_") or key == "DATABASE_URL":
            monkeypatch.delenv(key)
    monkeypatch.setenv("AUTOINVEST_HOME", str(tmp_path / "home"))
    settings = config.load_settings()
    assert settings.home == tmp_path / "home" and (tmp_path / "home").is_dir()
    assert settings.database_url is None and settings.access_window_ms == 10000


def test_many_processes_starting_at_once_on_one_home_all_load(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    # Workers and `execute` processes share one home and start together; none may see another's probe vanish.
    monkeypatch.setenv("AUTOINVEST_HOME", str(tmp_path))
    with ThreadPoolExecutor(max_workers=16) as pool:
        homes = list(pool.map(lambda _: config.load_settings().home, range(400)))
    assert homes == [tmp_path] * 400


@pytest.mark.parametrize("url", [
    "http://api.bitvavo.com/v2",  # not https
    "https://api.bitvavo.com.evil.example/v2",  # another host that starts like Bitvavo's
    "https://evil.example/api.bitvavo.com/v2",
    "https://user@api.bitvavo.com/v2",
    "https://api.bitvavo.com:8443/v2",
    "http://127.0.0.1:8899/v2",  # a simulator
])
def test_live_mode_refuses_any_exchange_but_bitvavo_over_https(url: str, monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    monkeypatch.setenv("AUTOINVEST_HOME", str(tmp_path))
    monkeypatch.setenv("AUTOINVEST_LIVE", "true")
    monkeypatch.setenv("AUTOINVEST_EXCHANGE_URL", url)
    with pytest.raises(ConfigError) as caught:
        config.load_settings()
    assert caught.value.reason == "LIVE_EXCHANGE_URL_NOT_BITVAVO"
    assert "AUTOINVEST_EXCHANGE_URL" in str(caught.value)


@pytest.mark.parametrize("url", ["https://api.bitvavo.com/v2", "https://api.bitvavo.com", "https://API.bitvavo.com/v2/"])
def test_live_mode_accepts_bitvavo_and_paper_mode_a_local_exchange(url: str, monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    monkeypatch.setenv("AUTOINVEST_HOME", str(tmp_path))
    monkeypatch.setenv("AUTOINVEST_LIVE", "true")
    monkeypatch.setenv("AUTOINVEST_EXCHANGE_URL", url)
    assert config.load_settings().exchange_url == url
    monkeypatch.setenv("AUTOINVEST_LIVE", "false")
    monkeypatch.setenv("AUTOINVEST_EXCHANGE_URL", "http://127.0.0.1:8899/v2")
    assert config.load_settings().exchange_url == "http://127.0.0.1:8899/v2"


def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("AUTOINVEST_") or key == "DATABASE_URL":
            monkeypatch.delenv(key)
    monkeypatch.setenv("AUTOINVEST_HOME", str(tmp_path))


@pytest.mark.parametrize("url", [
    "https://api.bitvavo.com/v2",  # real money, but AUTOINVEST_LIVE was not asked for
    "https://evil.example/v2",
    "http://192.0.2.2:8899/v2",  # a simulator on another machine is not local
    "http://sim:8899/v2",
    "http://localhost.evil.example/v2",
    "http://127.0.0.1.evil.example/v2",
    "http://127.0.0.1@evil.example/v2",  # the host is evil.example
    "ftp://127.0.0.1/v2",
    "127.0.0.1:8899",
])
def test_paper_mode_refuses_any_exchange_but_a_local_one(url: str, monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    _clean_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AUTOINVEST_EXCHANGE_URL", url)
    with pytest.raises(ConfigError) as caught:
        config.load_settings()
    assert caught.value.reason == "EXCHANGE_URL_NOT_LOCAL"
    assert "AUTOINVEST_EXCHANGE_URL" in str(caught.value) and "AUTOINVEST_LIVE=true" in str(caught.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8899/v2", "http://127.3.4.5:1/v2", "http://localhost:8899/v2",
                                 "https://LOCALHOST/v2", "http://[::1]:8899/v2"])
def test_paper_mode_accepts_a_loopback_exchange(url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _clean_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AUTOINVEST_EXCHANGE_URL", url)
    assert config.load_settings().exchange_url == url


def test_the_default_exchange_is_the_local_simulator_and_live_must_name_bitvavo(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _clean_env(monkeypatch, tmp_path)
    assert config.load_settings().exchange_url == "http://127.0.0.1:8899/v2"  # where `autoinvest exchange-sim` listens
    monkeypatch.setenv("AUTOINVEST_LIVE", "true")
    with pytest.raises(ConfigError) as caught:
        config.load_settings()
    assert caught.value.reason == "LIVE_EXCHANGE_URL_NOT_BITVAVO"


@pytest.mark.parametrize("hook", [{"AUTOINVEST_TEST_HOOKS": "true"}, {"AUTOINVEST_FAILPOINT": "before-send"},
                                  {"AUTOINVEST_SCAN_HOLD_S": "1"}])
def test_test_hooks_are_refused_in_live_mode(hook: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    _clean_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AUTOINVEST_EXCHANGE_URL", "https://api.bitvavo.com/v2")
    monkeypatch.setenv("AUTOINVEST_LIVE", "true")
    assert config.load_settings().live
    for name, value in hook.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        config.load_settings()
    assert caught.value.reason == "LIVE_TEST_HOOKS_REFUSED"
    assert all(name in str(caught.value) for name in hook)
    monkeypatch.delenv("AUTOINVEST_LIVE")
    monkeypatch.setenv("AUTOINVEST_EXCHANGE_URL", "http://127.0.0.1:8899/v2")
    assert not config.load_settings().live  # in paper mode they load


_AT_A_FAILPOINT = ("from autoinvest.execution.failpoints import failpoint\n"
                   "failpoint('before-send')\nprint('alive')")


@pytest.mark.parametrize(("env", "killed"), [
    ({"AUTOINVEST_FAILPOINT": "before-send"}, False),  # no test hooks: the failpoint does nothing
    ({"AUTOINVEST_FAILPOINT": "before-send", "AUTOINVEST_TEST_HOOKS": "false"}, False),
    ({"AUTOINVEST_FAILPOINT": "before-send", "AUTOINVEST_TEST_HOOKS": "true", "AUTOINVEST_LIVE": "true"}, False),
    ({"AUTOINVEST_FAILPOINT": "before-send", "AUTOINVEST_TEST_HOOKS": "true"}, True),
    ({"AUTOINVEST_FAILPOINT": "before-send", "AUTOINVEST_TEST_HOOKS": "YES"}, True),
    ({"AUTOINVEST_FAILPOINT": "after-record", "AUTOINVEST_TEST_HOOKS": "true"}, False),  # another point
])
def test_a_failpoint_acts_only_with_test_hooks_and_never_in_live_mode(env: dict[str, str], killed: bool) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AUTOINVEST_")}
    done = subprocess.run([sys.executable, "-c", _AT_A_FAILPOINT], env=base | env, capture_output=True, text=True,
                          timeout=60, check=False)
    if killed:
        assert (done.returncode, done.stdout) == (-9, ""), done.stderr
    else:
        assert (done.returncode, done.stdout) == (0, "alive\n"), f"exit {done.returncode}: {done.stderr}"
