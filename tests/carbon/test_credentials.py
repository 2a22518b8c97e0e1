"""Credentials from env or a config file; secrets never show up in text."""

from __future__ import annotations

import logging
import os
import pickle

import pytest

from carbon.sources.credentials import CredentialsError, Secret, load_credentials


def test_env_wins_over_the_file(tmp_path):
    f = tmp_path / "carbon.toml"
    f.write_text('[electricitymaps]\ntoken = "file-token"\n[watttime]\nusername = "u"\n'
                 'password = "file-pass"\n')
    os.chmod(f, 0o600)
    c = load_credentials(env={"ELECTRICITYMAPS_API_TOKEN": "env-token"}, config_path=f)
    assert c.electricitymaps_token.reveal() == "env-token"
    assert c.watttime_username == "u" and c.watttime_password.reveal() == "file-pass"
    assert set(c.secrets()) == {"env-token", "file-pass"}


def test_config_path_from_the_environment(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[electricitymaps]\ntoken = "t"\n')
    os.chmod(f, 0o600)
    assert load_credentials(env={"GRIDSHIFT_CARBON_CONFIG": str(f)}).electricitymaps_token


def test_nothing_configured_means_no_credentials(tmp_path):
    c = load_credentials(env={}, config_path=tmp_path / "absent.toml")
    assert c.electricitymaps_token is None and c.watttime_password is None


def test_a_world_readable_file_is_refused(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[electricitymaps]\ntoken = "t"\n')
    os.chmod(f, 0o644)
    with pytest.raises(CredentialsError, match="chmod 600"):
        load_credentials(env={}, config_path=f)


def test_bad_toml_names_the_file(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("[electricitymaps\n")
    os.chmod(f, 0o600)
    with pytest.raises(CredentialsError, match="not valid TOML"):
        load_credentials(env={}, config_path=f)


def test_secret_hides_itself_everywhere(caplog):
    s = Secret("hunter2-SECRET")
    caplog.set_level(logging.DEBUG)
    logging.getLogger("t").info("token %s %r", s, s)
    text = f"{s} {s!r} {s:>20} {[s]} {({'t': s})}"
    assert "hunter2" not in text and "hunter2" not in caplog.text
    assert s.reveal() == "hunter2-SECRET" and s == Secret("hunter2-SECRET")
    with pytest.raises(TypeError):
        pickle.dumps(s)
