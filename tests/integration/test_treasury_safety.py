"""What treasury staff meet when they get something wrong, through the real `munibond` command against its own anvil:
every refusal is one `error:` line with exit status 2 and sends nothing.

The chain is the reference for a deployed bond (a second term sheet is refused field by field, the manifest keeps
pointing at the bond's own); a mistyped issuer salt is refused before it re-keys anyone, and a mistaken import is
brought back; payer role and payment dates are checked before money moves; refusals by the chain, the node, the
network choice and the manifest come out as one line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from web3 import HTTPProvider, Web3

from munibond.demo import shift_dates, years_to_start_after
from munibond.investors import investor_identity
from tests.integration.test_cli_workflow import EXAMPLES, MNEMONIC, ROOT, _free_port, address_of, nonces

SALT = "treasury-salt"
EVERYONE = ("issuer", "registrar", "agent", "treasury")


@pytest.fixture(scope="module")
def node(node_hardfork):
    anvil = shutil.which("anvil") or str(ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
    port = _free_port()
    process = subprocess.Popen(
        [
            anvil,
            "--port",
            str(port),
            "--accounts",
            "20",
            "--mnemonic",
            MNEMONIC,
            "--hardfork",
            node_hardfork,
            "--silent",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    web3 = Web3(HTTPProvider(url))
    for _ in range(100):
        if web3.is_connected():
            break
        time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("anvil did not start")
    yield url, web3
    process.terminate()
    process.wait(timeout=10)


def run(url: str, manifest: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "munibond", *args, "--network", url, "--manifest", str(manifest)],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def refused(result: subprocess.CompletedProcess) -> list[str]:
    """The `error:` lines of a refusal, after checking it was one: exit 2, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith("error: ") for line in lines), result.stderr
    return lines


@pytest.fixture(scope="module")
def bond(tmp_path_factory, node):
    """KNGW26 deployed by the CLI, its investors imported in two runs (the first as if cut short after three rows),
    its allocations issued. Returns the workspace and the outputs of the two imports."""
    url, web3 = node
    tmp = tmp_path_factory.mktemp("treasury")
    raw = yaml.safe_load((EXAMPLES / "kanagawa-resident-2026.yaml").read_text())
    years = years_to_start_after(raw["issue_date"], web3.eth.get_block("latest")["timestamp"])
    terms = tmp / "kanagawa.yaml"
    terms.write_text(yaml.safe_dump(shift_dates(raw, years), sort_keys=False, allow_unicode=True))
    manifest = tmp / "manifest.json"
    salt_file = tmp / "salt"
    salt_file.write_text(SALT + "\n")
    deployed = run(url, manifest, "deploy", str(terms), "--test-payment-token")
    assert deployed.returncode == 0, deployed.stderr
    investors = (EXAMPLES / "investors.csv").read_text().splitlines(keepends=True)
    first_rows = tmp / "investors-first-rows.csv"
    first_rows.write_text("".join(investors[:4]))  # a, b and b's second wallet: an import cut short
    salt = ("--issuer-salt-file", str(salt_file))
    cut_short = run(url, manifest, "investors", "import", str(first_rows), *salt, "--yes")
    assert cut_short.returncode == 0, cut_short.stderr
    completed = run(url, manifest, "investors", "import", str(EXAMPLES / "investors.csv"), *salt, "--yes")
    assert completed.returncode == 0, completed.stderr
    issued = run(url, manifest, "issue", "KNGW26", str(EXAMPLES / "allocations.csv"), "--yes")
    assert issued.returncode == 0, issued.stderr
    return {"tmp": tmp, "terms": terms, "manifest": manifest, "salt": salt_file, "imports": (cut_short, completed)}


def with_changes(source: Path, target: Path, **changes: object) -> Path:
    raw = yaml.safe_load(source.read_text())
    for dotted, value in changes.items():
        node = raw
        *parents, last = dotted.split("__")
        for key in parents:
            node = node[key]
        node[last] = value
    target.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    return target


def test_an_interrupted_import_is_completed_by_running_it_again(bond):
    cut_short, completed = bond["imports"]
    assert "registered 2, updated 0, linked 1" in cut_short.stdout
    assert "5 to register, 0 to update, 0 to link, 3 unchanged" in completed.stdout


def test_a_second_term_sheet_for_a_deployed_bond_is_refused_field_by_field(node, bond):
    url, web3 = node
    tmp, terms, manifest = bond["tmp"], bond["terms"], bond["manifest"]
    recorded = manifest.read_bytes()
    before = nonces(web3, *EVERYONE)

    other_rate = with_changes(terms, tmp / "rate-095.yaml", coupon__rate="0.0095")
    lines = refused(run(url, manifest, "deploy", str(other_rate), "--test-payment-token"))
    rate_line = next(line for line in lines if "coupon.rate" in line)
    assert f"{other_rate}:" in rate_line and "couponRate is 850000, the file gives 950000" in rate_line
    assert sum("period" in line and "differs from the deployed series" in line for line in lines) == 10
    assert any("(file): is not the term sheet the series holds" in line for line in lines)

    new_symbol = with_changes(terms, tmp / "new-symbol.yaml", symbol="KNGW27")
    (line,) = refused(run(url, manifest, "deploy", str(new_symbol), "--test-payment-token"))
    assert "symbol: ISIN" in line and "is already deployed as series KNGW26" in line

    # amend compares with the chain: the wrong file is refused, the bond's own file amends nothing
    wrong = refused(run(url, manifest, "amend", "KNGW26", str(other_rate), "--dry-run"))
    assert any("coupon.rate: would change the token's couponRate (850000 -> 950000)" in line for line in wrong)
    own = run(url, manifest, "amend", "KNGW26", str(terms), "--dry-run")
    assert own.returncode == 0 and "would amend 0 periods" in own.stdout, own.stderr

    assert manifest.read_bytes() == recorded
    assert nonces(web3, *EVERYONE) == before
    again = run(url, manifest, "deploy", str(terms), "--test-payment-token")
    assert again.returncode == 0 and "KNGW26 already deployed" in again.stdout, again.stderr
    assert manifest.read_bytes() == recorded


def registered_identity(web3: Web3, registry: str, wallet: str) -> str:
    selector = Web3.keccak(text="identity(address)")[:4]
    data = selector + bytes(12) + bytes.fromhex(wallet[2:])
    word = web3.eth.call({"to": registry, "data": "0x" + data.hex()})
    return Web3.to_checksum_address(word[-20:])


def test_a_mistyped_issuer_salt_is_refused_and_a_mistaken_import_is_brought_back(node, bond):
    url, web3 = node
    tmp, manifest = bond["tmp"], bond["manifest"]
    investors = str(EXAMPLES / "investors.csv")
    registry = json.loads(manifest.read_text())["contracts"]["InvestorRegistry"]["address"]
    wallet_a = address_of(web3, "investor_a")
    right = investor_identity(SALT.encode(), "KNGW-0001")
    typo = tmp / "typo"
    typo.write_text("treasury-slat\n")
    before = nonces(web3, "registrar")

    (line,) = refused(run(url, manifest, "investors", "import", investors, "--issuer-salt-file", str(typo)))
    assert "not the one this register was built with" in line
    assert nonces(web3, "registrar") == before
    on_command_line = run(url, manifest, "investors", "import", investors, "--issuer-salt", SALT)
    assert on_command_line.returncode == 2 and "No such option" in on_command_line.stderr
    from_env = run(url, manifest, "investors", "import", investors, env={"MUNIBOND_ISSUER_SALT": SALT})
    assert from_env.returncode == 0 and "8 unchanged" in from_env.stdout, from_env.stderr

    # without the fingerprint record (lost), the chain tells: no registered wallet has the typo's identity
    record = manifest.with_name(manifest.stem + ".issuer-salt.json")
    kept = record.read_text()
    record.unlink()
    (line,) = refused(run(url, manifest, "investors", "import", investors, "--issuer-salt-file", str(typo)))
    assert "gives none of the 8 registered wallets" in line
    record.write_text(kept)
    assert nonces(web3, "registrar") == before

    # a mistaken re-key (forced) is brought back with the right salt
    mistaken = run(url, manifest, "investors", "import", investors, "--issuer-salt-file", str(typo), "--rekey", "--yes")
    assert mistaken.returncode == 0 and "updated 8" in mistaken.stdout, mistaken.stderr
    assert registered_identity(web3, registry, wallet_a) != right
    refused(run(url, manifest, "investors", "import", investors, "--issuer-salt-file", str(bond["salt"])))
    repaired = run(
        url, manifest, "investors", "import", investors, "--issuer-salt-file", str(bond["salt"]), "--rekey", "--yes"
    )
    assert repaired.returncode == 0 and "updated 8" in repaired.stdout, repaired.stderr
    assert registered_identity(web3, registry, wallet_a) == right
    settled = run(url, manifest, "investors", "import", investors, "--issuer-salt-file", str(bond["salt"]))
    assert settled.returncode == 0 and "0 to update, 0 to link, 8 unchanged" in settled.stdout, settled.stderr


def test_a_public_body_with_an_individual_tax_class_is_refused(node, bond):
    url, web3 = node
    rows = bond["tmp"] / "public-body.csv"
    rows.write_text(
        "wallet,investor_id,country,region,category,tax_class,kyc_expiry\n"
        "alias:investor_h,KNGW-0008,392,140007,public_body,jp_individual,2099-12-31\n"
    )
    before = nonces(web3, "registrar")
    args = ("investors", "import", str(rows), "--issuer-salt-file", str(bond["salt"]))
    (line,) = refused(run(url, bond["manifest"], *args))
    assert f"{rows}:2: tax_class: tax class jp_individual is for individuals" in line
    assert nonces(web3, "registrar") == before


def test_an_issue_size_beyond_the_limit_is_refused_at_its_field(node, bond):
    url, _web3 = node
    huge = with_changes(bond["terms"], bond["tmp"] / "huge.yaml", issue_size=str(10**50))
    (line,) = refused(run(url, bond["manifest"], "deploy", str(huge), "--test-payment-token"))
    assert f"{huge}:" in line and "issue_size: " in line and "beyond what munibond issues" in line


def test_holders_shows_category_and_tax_class_in_words(node, bond):
    url, _web3 = node
    shown = run(url, bond["manifest"], "holders", "KNGW26")
    assert shown.returncode == 0, shown.stderr
    assert "public_body" in shown.stdout and "jp_exempt" in shown.stdout and "jp_individual" in shown.stdout


REFUSALS = [
    # (case, arguments ({name} = a file of the case), --network or --manifest instead of the bond's, expected text)
    ("wrong role", ["issue", "KNGW26", "{top_up}", "--minter", "treasury"], {}, ("does not have the minter role",)),
    ("unregistered holder", ["issue", "KNGW26", "{unregistered}"], {}, ("would refuse 1 mint(s)", "not a verified")),
    ("non-resident", ["issue", "KNGW26", "{non_resident}"], {}, ("would refuse 1 mint(s)", "region is not allowed")),
    ("over the cap", ["issue", "KNGW26", "{over_cap}"], {}, ("would refuse 1 mint(s)", "per-investor cap")),
    ("over the issue size", ["issue", "KNGW26", "{over_size}"], {}, ("beyond the issue size of 50,000 units",)),
    (
        "allocation lowered",
        ["issue", "KNGW26", "{lowered}"],
        {},
        ("was minted 40 units, more than its allocation of 39",),
    ),
    (
        "wrong registrar",
        ["investors", "import", "{new_investor}", "--issuer-salt-file", "{salt}", "--registrar", "treasury"],
        {},
        ("treasury", "does not have the registrar role"),
    ),
    ("wrong payer", ["coupon", "pay", "KNGW26", "1", "--payer", "agent"], {}, ("does not have the payer role",)),
    ("unreachable node", ["holders", "KNGW26"], {"network": "http://127.0.0.1:1"}, ("cannot reach the node",)),
    (
        "port not a number",
        ["holders", "KNGW26"],
        {"network": "http://127.0.0.1:port"},
        ("malformed RPC URL", "port must be a number"),
    ),
    ("unknown provider", ["holders", "KNGW26"], {"network": "ethereum:local:nosuchnode"}, ("nosuchnode",)),
    (
        "manifest is a folder",
        ["holders", "KNGW26"],
        {"manifest": "{folder}"},
        ("is a folder, not a deployment manifest",),
    ),
    ("empty manifest", ["holders", "KNGW26"], {"manifest": "{empty}"}, ("not a readable deployment manifest",)),
    ("malformed URL", ["holders", "KNGW26"], {"network": "htp://node"}, ("unknown network", "htp")),
    ("unknown network", ["holders", "KNGW26"], {"network": "ethereum:nonet"}, ("unknown network", "nonet")),
    ("corrupt manifest", ["holders", "KNGW26"], {"manifest": "{corrupt}"}, ("not a readable deployment manifest",)),
    ("missing manifest", ["holders", "KNGW26"], {"manifest": "{missing}"}, ("manifest file does not exist",)),
    ("other chain", ["holders", "KNGW26"], {"manifest": "{other_chain}"}, ("manifest is for chain id 1,",)),
    (
        "payment token without code",
        ["deploy", "{terms}", "--payment-token", "0x000000000000000000000000000000000000dEaD"],
        {},
        ("--payment-token: no contract at 0x000000000000000000000000000000000000dEaD",),
    ),
]


@pytest.mark.parametrize(("args", "instead", "expected"), [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS])
def test_refusals_are_one_line_with_exit_2_and_send_nothing(node, bond, args, instead, expected):
    url, web3 = node
    tmp = bond["tmp"]
    unregistered = tmp / "unregistered.csv"
    unregistered.write_text("wallet,units\nalias:investor_h,10\n")
    other_chain = json.loads(bond["manifest"].read_text()) | {"chain_id": 1}
    (tmp / "other-chain.json").write_text(json.dumps(other_chain))
    (tmp / "corrupt.json").write_text("{not json")
    top_up = tmp / "top-up.csv"
    top_up.write_text("wallet,units\nalias:investor_a,41\n")  # one unit more than the 40 issued
    for name, rows in {
        "non-resident": "alias:investor_f,10",  # registered, in Tokyo: not a resident of Kanagawa
        "over-cap": "alias:investor_a,101",  # 1,010,000 yen: over the 1,000,000 per investor
        "over-size": "alias:investor_g,50001",  # one unit more than the issue
        "lowered": "alias:investor_a,39",  # 40 were issued
    }.items():
        (tmp / f"{name}.csv").write_text(f"wallet,units\n{rows}\n")
    (tmp / "new-investor.csv").write_text(
        "wallet,investor_id,country,region,category,tax_class,kyc_expiry\n"
        "alias:investor_h,KNGW-0008,392,140007,individual,jp_individual,2099-12-31\n"
    )
    (tmp / "empty.json").write_text("")
    (tmp / "a-folder").mkdir(exist_ok=True)
    files = {
        "non_resident": str(tmp / "non-resident.csv"),
        "over_cap": str(tmp / "over-cap.csv"),
        "over_size": str(tmp / "over-size.csv"),
        "lowered": str(tmp / "lowered.csv"),
        "new_investor": str(tmp / "new-investor.csv"),
        "salt": str(bond["salt"]),
        "folder": str(tmp / "a-folder"),
        "empty": str(tmp / "empty.json"),
        "top_up": str(top_up),
        "unregistered": str(unregistered),
        "terms": str(bond["terms"]),
        "corrupt": str(tmp / "corrupt.json"),
        "missing": str(tmp / "no-such-manifest.json"),
        "other_chain": str(tmp / "other-chain.json"),
    }
    network = instead.get("network", url)
    manifest = Path(instead.get("manifest", str(bond["manifest"])).format(**files))
    before = nonces(web3, *EVERYONE)
    (line,) = refused(run(network, manifest, *(arg.format(**files) for arg in args)))
    assert all(text in line for text in expected), line
    assert nonces(web3, *EVERYONE) == before


def test_money_does_not_move_before_a_check_would_have_failed(node, bond):
    url, web3 = node
    manifest = bond["manifest"]
    from munibond.schedule import build_schedule
    from munibond.terms import load_term_sheet

    periods = build_schedule(load_term_sheet(bond["terms"])).periods
    before = nonces(web3, *EVERYONE)

    # between the record date and the payment date: nothing funded
    web3.provider.make_request("evm_setNextBlockTimestamp", [periods[0].record_time + 60])
    web3.provider.make_request("evm_mine", [])
    (line,) = refused(run(url, manifest, "coupon", "pay", "KNGW26", "1"))
    assert "period 1: the payment date" in line and "has not come on the chain" in line

    # a payer without the payer role: not even an approval
    web3.provider.make_request("evm_setNextBlockTimestamp", [periods[0].payment_time])
    web3.provider.make_request("evm_mine", [])
    (line,) = refused(run(url, manifest, "coupon", "pay", "KNGW26", "1", "--payer", "issuer"))
    assert "issuer" in line and "does not have the payer role of KNGW26" in line

    # the redemption while the coupons before it are overdue and unpaid
    web3.provider.make_request("evm_setNextBlockTimestamp", [periods[-1].payment_time])
    web3.provider.make_request("evm_mine", [])
    (line,) = refused(run(url, manifest, "redeem", "KNGW26"))
    assert "periods 1, 2, 3, 4, 5, 6, 7, 8, 9 of KNGW26 are overdue and unpaid" in line
    assert nonces(web3, *EVERYONE) == before


def test_a_transaction_still_pending_is_waited_for_then_reported_in_one_line(node, bond):
    url, web3 = node
    registrar = address_of(web3, "registrar")
    web3.provider.make_request("evm_setAutomine", [False])
    try:
        web3.eth.send_transaction({"from": registrar, "to": registrar, "value": 0})
        args = ("investors", "import", str(EXAMPLES / "investors.csv"), "--issuer-salt-file", str(bond["salt"]))
        (line,) = refused(run(url, bond["manifest"], *args, env={"MUNIBOND_PENDING_WAIT": "1"}))
        assert "registrar" in line and "still has 1 transaction(s) pending" in line
    finally:
        web3.provider.make_request("evm_mine", [])
        web3.provider.make_request("evm_setAutomine", [True])
    again = run(url, bond["manifest"], *args)
    assert again.returncode == 0 and "8 unchanged" in again.stdout, again.stderr


@pytest.fixture(scope="module")
def public_chain(node_hardfork, tmp_path_factory):
    """An anvil that is not a development chain (chain id 4242: aliases are keyfile accounts), and an Ape data
    folder of its own holding one keyfile account, `issuer`, with the passphrase `right`."""
    from eth_account import Account

    anvil = shutil.which("anvil") or str(ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
    port = _free_port()
    process = subprocess.Popen(
        [anvil, "--port", str(port), "--chain-id", "4242", "--hardfork", node_hardfork, "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    web3 = Web3(HTTPProvider(url))
    for _ in range(100):
        if web3.is_connected():
            break
        time.sleep(0.1)
    data = tmp_path_factory.mktemp("ape-data")
    (data / "accounts").mkdir()
    keyfile = Account.encrypt(Account.create().key, "right")
    (data / "accounts" / "issuer.json").write_text(json.dumps(keyfile))
    yield url, data
    process.terminate()
    process.wait(timeout=10)


@pytest.mark.parametrize(
    ("sender", "passphrase", "expected"),
    [
        ("nobody", "right", "accounts: nobody: no keyfile account with this alias"),
        ("issuer", "wrong", "APE_ACCOUNTS_issuer_PASSPHRASE: cannot unlock the keyfile account"),
    ],
    ids=["missing keyfile account", "wrong passphrase"],
)
def test_accounts_that_cannot_sign_are_one_line(public_chain, bond, tmp_path, sender, passphrase, expected):
    url, data = public_chain
    env = {"APE_DATA_FOLDER": str(data), "APE_ACCOUNTS_issuer_PASSPHRASE": passphrase}
    args = ("deploy", str(bond["terms"]), "--sender", sender, "--payment-token", "0x" + "00" * 19 + "01")
    (line,) = refused(run(url, tmp_path / "manifest.json", *args, env=env))
    assert expected in line
