"""Investor CSV: every row validated, errors located as file:line: field, nothing returned on bad input."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from munibond.errors import InputError
from munibond.investors import (
    MAX_WALLETS_PER_INVESTOR,
    InvestorCategory,
    investor_identity,
    parse_investors,
    resolve_wallets,
)
from munibond.money import TAX_CLASSES

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "investors.csv"
SALT = b"kanagawa-2026"
NOW = datetime(2026, 3, 1, tzinfo=UTC)
HEADER = "wallet,investor_id,country,region,category,tax_class,kyc_expiry,name_ref\n"
GOOD = "alias:investor_a,KNGW-0001,392,140007,individual,jp_individual,2030-12-31,REG-0001\n"
# A well-known EIP-55 test vector (from the EIP-55 specification)
CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "investors.csv"
    path.write_text(text)
    return path


def test_example_file():
    rows = parse_investors(EXAMPLE, issuer_salt=SALT, now=NOW)
    assert len(rows) == 8
    assert len({r.identity for r in rows}) == 7  # investor KNGW-0002 has two wallets
    b, b2 = (r for r in rows if r.investor_id == "KNGW-0002")
    assert b.identity == b2.identity and b.wallet != b2.wallet
    c = next(r for r in rows if r.investor_id == "KNGW-0003")
    assert c.country == 392  # given as alpha-2 "JP"
    assert c.category is InvestorCategory.CORPORATE and c.tax_class is TAX_CLASSES["jp_corporate"]
    g = next(r for r in rows if r.investor_id == "KNGW-0007")
    assert g.category == 3 and g.tax_class.components == ()
    f = next(r for r in rows if r.investor_id == "KNGW-0006")
    assert f.region == 130001
    a = rows[0]
    assert a.line == 2 and a.alias == "investor_a" and a.name_ref == "REG-0001"
    # end of 31 Dec 2035 UTC
    assert a.kyc_expiry == int(datetime(2035, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())
    e = next(r for r in rows if r.investor_id == "KNGW-0005")
    assert e.kyc_expiry == int(datetime(2035, 12, 31, 14, 59, 59, tzinfo=UTC).timestamp())
    assert a.record() == (a.identity, 392, 140007, 0, TAX_CLASSES["jp_individual"].id, a.kyc_expiry)


def test_identity_derivation():
    expected = to_checksum_address(keccak(b"munibond.investor:" + SALT + b":" + b"KNGW-0001")[-20:])
    assert investor_identity(SALT, "KNGW-0001") == expected
    assert investor_identity(b"other", "KNGW-0001") != expected
    assert investor_identity(SALT, "KNGW-0002") != expected


def test_addresses_are_checksummed(tmp_path):
    lower = CHECKSUMMED.lower()
    path = write(tmp_path, HEADER + GOOD.replace("alias:investor_a", lower))
    (row,) = parse_investors(path, issuer_salt=SALT, now=NOW)
    assert row.wallet == CHECKSUMMED and row.alias is None


@pytest.mark.parametrize(
    ("bad_row", "field", "fragment"),
    [
        (GOOD.replace("alias:investor_a", CHECKSUMMED[:-1] + "D"), "wallet", "bad EIP-55 checksum"),
        (GOOD.replace("alias:investor_a", "0x1234"), "wallet", "40 hex digits"),
        (GOOD.replace("alias:investor_a", "0x" + "0" * 40), "wallet", "zero address"),
        (GOOD.replace("alias:investor_a", "alias:"), "wallet", "alias:NAME"),
        (GOOD.replace(",392,", ",1000,"), "country", "1..999"),
        (GOOD.replace(",392,", ",XX,"), "country", "ISO 3166-1"),
        (GOOD.replace(",140007,", ",16777216,"), "region", "2^24"),
        (GOOD.replace(",140007,", ",-1,"), "region", "non-negative integer"),
        (GOOD.replace(",individual,", ",retail,"), "category", "individual | corporate"),
        (GOOD.replace(",jp_individual,", ",jp_resident,"), "tax_class", "unknown tax class"),
        (GOOD.replace(",2030-12-31,", ",2026-02-28,"), "kyc_expiry", "not in the future"),
        (GOOD.replace(",2030-12-31,", ",31/12/2030,"), "kyc_expiry", "ISO date"),
        (GOOD.replace(",2030-12-31,", ",2107-01-01,"), "kyc_expiry", "uint32"),
        (GOOD.replace(",KNGW-0001,", ",,"), "investor_id", "must not be empty"),
        (GOOD.replace(",REG-0001", ""), "(row)", "expected 8 fields, found 7"),
    ],
)
def test_bad_rows_are_located(tmp_path, bad_row, field, fragment):
    other = GOOD.replace("investor_a", "investor_z").replace("KNGW-0001", "KNGW-0099")
    path = write(tmp_path, HEADER + other + bad_row)
    with pytest.raises(InputError) as info:
        parse_investors(path, issuer_salt=SALT, now=NOW)
    err = info.value
    assert (err.file, err.line, err.field) == (str(path), 3, field)
    assert fragment in err.message
    assert str(err).startswith(f"{path}:3: {field}: ")


def test_all_rows_validated_and_nothing_returned(tmp_path):
    rows = [
        GOOD,
        GOOD.replace("investor_a", "investor_b").replace(",392,", ",0,"),
        GOOD.replace("investor_a", "investor_c").replace(",KNGW-0001,", ",KNGW-0003,"),
        GOOD.replace("investor_a", "investor_d").replace(",jp_individual,", ",nope,"),
    ]
    path = write(tmp_path, HEADER + "".join(rows))
    with pytest.raises(InputError) as info:
        parse_investors(path, issuer_salt=SALT, now=NOW)
    assert [(i.line, i.field) for i in info.value.issues] == [(3, "country"), (5, "tax_class")]


def test_duplicate_wallets(tmp_path):
    path = write(tmp_path, HEADER + GOOD + GOOD.replace("KNGW-0001", "KNGW-0002"))
    with pytest.raises(InputError) as info:
        parse_investors(path, issuer_salt=SALT, now=NOW)
    assert (info.value.line, info.value.field) == (3, "wallet")
    assert "already on line 2" in info.value.message
    mixed = (
        HEADER
        + GOOD.replace("alias:investor_a", CHECKSUMMED)
        + GOOD.replace("alias:investor_a", CHECKSUMMED.lower()).replace("KNGW-0001", "KNGW-0002")
    )
    with pytest.raises(InputError, match="duplicate wallet"):
        parse_investors(write(tmp_path, mixed), issuer_salt=SALT, now=NOW)


def test_wallets_of_one_investor_must_agree(tmp_path):
    second = GOOD.replace("investor_a", "investor_a2").replace(",jp_individual,", ",jp_corporate,")
    path = write(tmp_path, HEADER + GOOD + second)
    with pytest.raises(InputError) as info:
        parse_investors(path, issuer_salt=SALT, now=NOW)
    assert (info.value.line, info.value.field) == (3, "tax_class")


def test_wallets_per_investor_are_bounded(tmp_path):
    rows = [GOOD.replace("alias:investor_a", f"alias:investor_{i}") for i in range(MAX_WALLETS_PER_INVESTOR + 1)]
    assert len(parse_investors(write(tmp_path, HEADER + "".join(rows[:-1])), issuer_salt=SALT, now=NOW)) == 8
    with pytest.raises(InputError, match="more than 8 wallets") as info:
        parse_investors(write(tmp_path, HEADER + "".join(rows)), issuer_salt=SALT, now=NOW)
    assert (info.value.line, info.value.field) == (MAX_WALLETS_PER_INVESTOR + 2, "investor_id")


@pytest.mark.parametrize(
    ("header", "field", "fragment"),
    [
        (HEADER.replace(",kyc_expiry", ""), "kyc_expiry", "required column is missing"),
        (HEADER.replace("name_ref", "name"), "name", "unknown column"),
    ],
)
def test_bad_header(tmp_path, header, field, fragment):
    path = write(tmp_path, header + GOOD)
    with pytest.raises(InputError) as info:
        parse_investors(path, issuer_salt=SALT, now=NOW)
    assert (info.value.line, info.value.field) == (1, field)
    assert fragment in info.value.message


def test_optional_name_ref_blank_lines_and_bom(tmp_path):
    header = "\ufeff" + HEADER.replace(",name_ref", "")
    path = write(tmp_path, header + GOOD.replace(",REG-0001", "") + "\n")
    (row,) = parse_investors(path, issuer_salt=SALT, now=NOW)
    assert row.name_ref is None and row.line == 2


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(InputError, match="empty"):
        parse_investors(write(tmp_path, ""), issuer_salt=SALT, now=NOW)
    with pytest.raises(InputError, match="cannot read"):
        parse_investors(tmp_path / "nope.csv", issuer_salt=SALT, now=NOW)


def test_resolve_aliases_to_test_accounts():
    # Anvil's and Ape's default test mnemonic; HD path m/44'/60'/0'/0/i
    Account.enable_unaudited_hdwallet_features()
    mnemonic = "test test test test test test test test test test test junk"
    accounts = {
        f"investor_{x}": Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}").address
        for i, x in enumerate(["a", "b", "b2", "c", "d", "e", "f", "g"], start=2)
    }
    assert Account.from_mnemonic(mnemonic).address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    rows = resolve_wallets(parse_investors(EXAMPLE, issuer_salt=SALT, now=NOW), accounts.__getitem__)
    assert [r.wallet for r in rows] == list(accounts.values())
    with pytest.raises(InputError) as info:
        resolve_wallets(parse_investors(EXAMPLE, issuer_salt=SALT, now=NOW), {}.__getitem__, file="x.csv")
    assert (info.value.file, info.value.line, info.value.field) == ("x.csv", 2, "wallet")
    same = dict.fromkeys(accounts, accounts["investor_a"])
    with pytest.raises(InputError, match="duplicate wallet"):
        resolve_wallets(parse_investors(EXAMPLE, issuer_salt=SALT, now=NOW), same.__getitem__)
