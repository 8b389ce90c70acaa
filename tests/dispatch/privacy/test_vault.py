"""The vault: sealed values open only with the site's keys, for the field they were sealed as;
keys rotate; the key file is made once, private, and never overwritten."""

from __future__ import annotations

import stat

import pytest

from dispatch.privacy.mask import mask_id, mask_name, mask_phone
from dispatch.privacy.vault import DataKeyError, SealError, Vault, load_keys, new_key


def test_a_sealed_value_opens_to_itself_and_shows_nothing_of_it():
    vault = Vault([new_key()])
    sealed = vault.seal("reporter_phone", "13812345678")
    assert sealed.startswith("§1:") and "1381234" not in sealed and "5678" not in sealed
    assert vault.open("reporter_phone", sealed) == "13812345678"
    assert vault.seal("reporter_phone", "13812345678") != sealed  # a fresh nonce each time
    assert vault.seal("reporter_phone", "") == ""


def test_a_value_sealed_as_one_field_does_not_open_as_another():
    vault = Vault([new_key()])
    sealed = vault.seal("reporter_phone", "13812345678")
    with pytest.raises(SealError) as err:
        vault.open("reporter_name", sealed)
    assert err.value.field == "reporter_name"


def test_an_altered_or_foreign_value_is_refused_not_misread():
    vault = Vault([new_key()])
    sealed = vault.seal("address", "幸福小区3栋2单元501")
    flipped = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(SealError):
        vault.open("address", flipped)
    with pytest.raises(SealError) as err:
        Vault([new_key()]).open("address", sealed)
    assert err.value.key_id == vault.key_id
    with pytest.raises(SealError):
        vault.open("address", sealed.rsplit(":", 1)[0] + ":not base64!")


def test_keys_rotate_new_first_old_still_opens():
    old = Vault([k1 := new_key()])
    sealed_before = old.seal("reporter_phone", "13900000000")
    rotated = Vault([new_key(), k1])
    assert rotated.open("reporter_phone", sealed_before) == "13900000000"
    assert rotated.seal("reporter_phone", "x").split(":")[1] == rotated.key_id != old.key_id


def test_values_stored_before_sealing_are_read_as_they_are():
    assert Vault([new_key()]).open("reporter_phone", "138****5678") == "138****5678"


@pytest.mark.parametrize("bad", ["", "short", "not-base64-!!!", "dULnlgLoHv9bIT-N4os5"])
def test_a_bad_key_is_named(bad):
    with pytest.raises(DataKeyError):
        Vault([bad])


def test_the_key_file_is_made_once_private_and_read_back(tmp_path):
    path = tmp_path / "keys" / "data.key"
    with pytest.raises(DataKeyError) as err:
        load_keys(env_value=None, key_file=path, create=False)
    assert "grid-dispatch keys create" in str(err.value) and not path.exists()
    made = load_keys(env_value=None, key_file=path, create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keys(env_value=None, key_file=path, create=True) == made  # not remade
    assert load_keys(env_value=f" {new_key()} , {made[0]}", key_file=path,
                     create=False)[1] == made[0]


@pytest.mark.parametrize(("phone", "shown"), [
    ("13812345678", "138****5678"), ("+86 138 1234 5678", "138****5678"),
    ("028-87654321", "028****4321"), ("138****5678", "138****5678"), ("12345", "*****")])
def test_phones_are_masked_to_their_ends(phone, shown):
    assert mask_phone(phone) == shown


def test_names_and_id_numbers_are_masked():
    assert mask_name("王小明") == "王**" and mask_name("张三") == "张*"
    assert mask_name("John Smith") == "J*** S****" and mask_name(" ") == ""
    assert mask_id("510124 19900101 1234") == "**************1234"


def test_serve_refuses_to_start_without_a_data_key(redis_server, tmp_path):
    from click.testing import CliRunner

    from dashboard.cli import main
    from dispatch.store.server import free_port

    result = CliRunner().invoke(main, ["serve", "--port", str(free_port())], env={
        "GRID_DISPATCH_DATA_KEY": None, "REDIS_URL": redis_server.url,
        "GRID_DISPATCH_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 1
    assert "no data key" in result.output and "keys create" in result.output
    assert not (tmp_path / "data.key").exists()
    made = CliRunner().invoke(main, ["keys", "create"], env={
        "GRID_DISPATCH_DATA_KEY": None, "GRID_DISPATCH_DATA_DIR": str(tmp_path)})
    assert made.exit_code == 0 and (tmp_path / "data.key").exists()
    again = CliRunner().invoke(main, ["keys", "create"], env={
        "GRID_DISPATCH_DATA_KEY": None, "GRID_DISPATCH_DATA_DIR": str(tmp_path)})
    assert again.exit_code == 1 and "exists" in again.output
