// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import {IERC3643, IAgentRole, IERC173} from "./IERC3643.sol";
import {IBondRecordDates} from "./IBondRecordDates.sol";
import {IERC1643} from "./IERC1643.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

/// @title IBondTypes
/// @notice Structs shared by the bond token and its factory.
interface IBondTypes {
    /// @notice Fixed bond terms (ERC-7092 metadata), stored in the clone's immutable arguments.
    /// @param isin ISIN or local code
    /// @param currency payment token (ERC-20 cash leg); zero for off-chain bank payment
    /// @param denomination face value of one token unit in minor units of the currency (e.g. 10000 yen)
    /// @param issueVolume total face value issued, in minor units of the currency
    /// @param couponRate annual coupon rate as a fraction of the face value, scaled by COUPON_RATE_SCALE (1e8):
    ///        1 = 0.000001 %, 0.455 % = 455000, 0.125 % = 125000 (a term-sheet rate with more decimals is refused
    ///        at deployment, so the value is exact)
    /// @param couponFrequency coupons per year (2 = semi-annual)
    /// @param couponType 0 zero coupon, 1 fixed, 2 floating
    /// @param issueDate Unix time
    /// @param maturityDate Unix time
    /// @param dayCountBasis day-count conventions: bits [0,4) the convention of regular periods, bits [4,8) the
    ///        convention of irregular (stub) periods plus one, or 0 when stubs use the regular convention. Codes:
    ///        0 ACT/ACT-ICMA, 1 ACT/360, 2 ACT/365F (fixed), 3 30/360 (bond basis), 4 ACT/ACT-ISDA,
    ///        5 NL/365 (no leap day), 6 30E/360 (Eurobond basis). E.g. ACT/ACT-ICMA with ACT/365F stubs =
    ///        0 | (2 + 1) << 4 = 48.
    struct BondTerms {
        string isin;
        address currency;
        uint256 denomination;
        uint256 issueVolume;
        uint256 couponRate;
        uint256 couponFrequency;
        uint8 couponType;
        uint256 issueDate;
        uint256 maturityDate;
        uint8 dayCountBasis;
    }

    /// @notice Role holders at initialization; zero addresses are skipped.
    /// @param admin DEFAULT_ADMIN_ROLE and ERC-173 owner (expected: a multisig)
    /// @param agent ERC-3643 umbrella agent (TRANSFER_AGENT + FREEZER + MINTER)
    struct Roles {
        address admin;
        address agent;
        address transferAgent;
        address freezer;
        address minter;
        address documentManager;
        address complianceManager;
        address payer;
    }

    /// @notice Compliance rules of one series. Zero disables a numeric rule; empty lists disable list rules.
    /// @param maxHolders max number of investors (multi-wallet investors count once)
    /// @param maxPerInvestor max holding per investor (summed over linked wallets), token units
    /// @param minHolding minimum non-zero holding per investor after a transfer, token units
    /// @param holdingMultiple every wallet balance after a transfer must be a multiple of this
    /// @param lockUpUntil no transfers between investors before this Unix time (mint allowed)
    /// @param allowedCountries receiver country allow-list (ISO-3166-1 numeric)
    /// @param regionCountries with `regions`: allowed (country, region) pairs (residents-only bonds)
    /// @param blackoutStarts with `blackoutEnds`: [start, end) windows without investor transfers
    struct ComplianceConfig {
        uint32 maxHolders;
        uint96 maxPerInvestor;
        uint64 minHolding;
        uint64 holdingMultiple;
        uint40 lockUpUntil;
        uint16[] allowedCountries;
        uint16[] regionCountries;
        uint24[] regions;
        uint40[] blackoutStarts;
        uint40[] blackoutEnds;
    }
}

/// @title IBondErrors
/// @notice Errors shared by the bond token and its admin extension.
interface IBondErrors {
    /// @notice Thrown when a transfer, mint, burn or other balance change is not allowed.
    /// @param code the restriction code (see messageForTransferRestriction)
    /// @param detail the limit involved (available balance, cap, max holders, lock-up end, ...) or 0
    error TransferRestricted(uint8 code, address from, address to, uint256 amount, uint256 detail);
    /// @notice Thrown for an invalid configuration value.
    error InvalidComplianceValue(uint8 rule, uint256 value);
    /// @notice Thrown when the caller lacks every role of `roleMask` (bit 0 admin, 1 transfer agent, 2 freezer,
    ///         3 minter, 4 document, 5 compliance, 6 payer).
    error MissingRole(address account, uint256 roleMask);
    /// @notice Thrown for an unknown role id.
    error UnknownRole(bytes32 role);
    /// @notice Thrown when batch arrays differ in length.
    error LengthMismatch(uint256 a, uint256 b);
    /// @notice Thrown when a function reserved to the series' own payment code (redemption burn) is called
    ///         from outside.
    error NotSeriesPayments(address caller);
    /// @notice Thrown when the identity registry of a series with payment code would change: its payments verify
    ///         holders and read tax classes in `registry`, the registry it was deployed with.
    error RegistryFixedByPayments(address registry);
    /// @notice Thrown when a series is initialized with a payment agent other than itself.
    error InvalidPaymentAgent(address paymentAgent);
    /// @notice Thrown when a recovery's wallets do not belong to the given investor identity.
    error RecoveryIdentityMismatch(address wallet, address expected, address actual);
    /// @notice Thrown when freezing more than the balance or unfreezing more than frozen.
    error InvalidFreezeAmount(address wallet, uint256 amount, uint256 limit);
    /// @notice Thrown for a zero address where one is not allowed.
    error ZeroAddress();
    /// @notice Thrown when setCompliance gets another address than the token itself.
    error UnsupportedCompliance(address compliance);
    /// @notice Thrown when a document does not exist.
    error DocumentNotFound(bytes32 name);
    /// @notice Settlement bits must fit the 29 spare bits of the account word.
    error InvalidSettlementBits(uint256 bits);
}

/// @title IBondCompliance
/// @notice Compliance configuration (served by the token's admin extension through the token's fallback) and
///         the ERC-1404 message table.
/// @dev Restriction codes (stable): 0 success, 1 paused, 2 sender frozen, 3 receiver frozen, 4 insufficient unfrozen
///      balance, 5 sender not verified, 6 receiver not verified, 7 country not allowed, 8 region not allowed
///      (non-resident), 9 max holders reached, 10 over per-investor cap, 11 below minimum holding, 12 not a multiple
///      of the holding unit, 13 lock-up, 14 blackout window, 15 invalid address, 16 amount too large,
///      17 series redeemed (every record time passed and the series closes after the last one).
interface IBondCompliance is IBondErrors {
    /// @notice Emitted when a numeric rule changes. rule: 1 country list on/off, 2 region list on/off,
    ///         3 maxHolders, 4 maxPerInvestor, 5 minHolding, 6 holdingMultiple, 7 lockUpUntil.
    event ComplianceRuleChanged(uint8 indexed rule, uint256 oldValue, uint256 newValue);
    /// @notice Emitted when a country is added to or removed from the allow-list.
    event CountryAllowedChanged(uint16 indexed country, bool oldAllowed, bool newAllowed);
    /// @notice Emitted when a (country, region) pair is added to or removed from the allow-list.
    event RegionAllowedChanged(uint16 indexed country, uint24 indexed region, bool oldAllowed, bool newAllowed);
    /// @notice Emitted when the blackout windows change; each entry is start | end << 40.
    event BlackoutWindowsChanged(uint256[] oldWindows, uint256[] newWindows);

    /// @notice Human-readable text of a restriction code.
    function messageForTransferRestriction(uint8 restrictionCode) external pure returns (string memory);

    /// @notice Sets the max number of investors (0 = no limit).
    function setMaxHolders(uint32 maxHolders) external;
    /// @notice Sets the max holding per investor (0 = no limit).
    function setMaxHoldingPerInvestor(uint96 maxPerInvestor) external;
    /// @notice Sets the minimum non-zero holding (0 = none).
    function setMinimumHolding(uint64 minHolding) external;
    /// @notice Sets the holding unit every balance must be a multiple of (0 or 1 = none).
    function setHoldingMultiple(uint64 multiple) external;
    /// @notice Sets the lock-up end (0 = none).
    function setLockUpUntil(uint40 lockUpUntil) external;
    /// @notice Adds or removes countries from the receiver allow-list.
    function setCountriesAllowed(uint16[] calldata countries, bool allowed) external;
    /// @notice Enables or disables the country allow-list.
    function setCountryRestriction(bool enabled) external;
    /// @notice Adds or removes an allowed (country, region) pair.
    function setRegionAllowed(uint16 country, uint24 region, bool allowed) external;
    /// @notice Enables or disables the region allow-list (residents-only).
    function setRegionRestriction(bool enabled) external;
    /// @notice Replaces the blackout windows ([start, end) Unix times); at most 16, since every investor transfer
    ///         checks them (more reverts `InvalidComplianceValue(8, count)`).
    function setBlackoutWindows(uint40[] calldata starts, uint40[] calldata ends) external;

    /// @notice Current rule values (flags: 1 paused, 2 country list, 4 region list, 8 region overflow map,
    ///         16 max holders, 32 max per investor, 64 minimum, 128 multiple, 256 lock-up, 512 blackout).
    function complianceRules()
        external
        view
        returns (
            uint256 flags,
            uint32 holderCount,
            uint32 maxHolders,
            uint96 maxPerInvestor,
            uint64 minHolding,
            uint64 holdingMultiple,
            uint40 lockUpUntil
        );
    /// @notice True when `country` is on the allow-list.
    function isCountryAllowed(uint16 country) external view returns (bool);
    /// @notice True when (`country`, `region`) is on the allow-list.
    function isRegionAllowed(uint16 country, uint24 region) external view returns (bool);
    /// @notice Blackout windows, each start | end << 40.
    function blackoutWindows() external view returns (uint256[] memory);
}

/// @title IBondTerms
/// @notice ERC-7092 read-only bond views (not the full ERC-7092: its transfer overloads conflict with ERC-20).
interface IBondTerms {
    /// @notice ISIN.
    function isin() external view returns (string memory);
    /// @notice Payment token (cash leg).
    function currency() external view returns (address);
    /// @notice Face value of one token unit (10**decimals base units) in minor currency units.
    function denomination() external view returns (uint256);
    /// @notice Total face value issued in minor currency units.
    function issueVolume() external view returns (uint256);
    /// @notice Annual coupon rate as a fraction of the face value, scaled by COUPON_RATE_SCALE (0.455 % = 455000).
    /// @dev Not in basis points: whole basis points cannot hold rates quoted to 0.001 % (0.455 % = 45.5 bp).
    function couponRate() external view returns (uint256);
    /// @notice The scale of couponRate: 1e8 (couponRate / COUPON_RATE_SCALE is the annual rate, 1 = 0.000001 %).
    function COUPON_RATE_SCALE() external view returns (uint256);
    /// @notice Coupons per year.
    function couponFrequency() external view returns (uint256);
    /// @notice 0 zero coupon, 1 fixed, 2 floating.
    function couponType() external view returns (uint8);
    /// @notice Issue date (Unix time).
    function issueDate() external view returns (uint256);
    /// @notice Maturity date (Unix time).
    function maturityDate() external view returns (uint256);
    /// @notice Day-count conventions: regular periods in bits [0,4), stub periods plus one in bits [4,8) (0 = as
    ///         regular). Codes 0 ACT/ACT-ICMA, 1 ACT/360, 2 ACT/365F, 3 30/360, 4 ACT/ACT-ISDA, 5 NL/365,
    ///         6 30E/360 (see IBondTypes.BondTerms).
    function dayCountBasis() external view returns (uint8);
    /// @notice All terms at once.
    function bondTerms() external view returns (IBondTypes.BondTerms memory);
}

/// @title IBondTokenCore
/// @notice What the BondToken contract itself implements (the hot path and every balance change).
interface IBondTokenCore is
    IERC3643,
    IAgentRole,
    IERC173,
    IAccessControl,
    IBondRecordDates,
    IBondTypes,
    IERC165,
    IBondErrors
{
    /// @notice Emitted when units of `holder` retired by the period whose record time is `recordTime` (a call,
    ///         an amortization or the final redemption) leave its balance and the supply, frozen units included.
    ///         Retirement takes effect at the record time; the token burns the units at the holder's next balance
    ///         change or when the period settles the holder, whichever comes first (a `Transfer` to zero follows).
    event UnitsRetired(address indexed holder, uint256 indexed recordTime, uint256 units);
    /// @notice Emitted when the token folds wallets of a multi-wallet investor into its aggregate (at the first
    ///         balance change touching the investor after a wallet joined it in the registry, or syncInvestor).
    event InvestorAggregated(address indexed identity, uint256 walletsAdded, uint256 aggregateBalance);

    /// @notice Initializes a series (called once by the factory). The identity registry is the first immutable
    ///         arg. `paymentAgent` is zero for a series without payments or the series' own address, whose payment
    ///         code the factory initializes next.
    function initialize(
        Roles calldata roles,
        address paymentAgent,
        ComplianceConfig calldata config,
        uint256[] calldata recordTimes_
    ) external;

    /// @notice Restriction code for `amount` from `from` to `to` as an investor transfer (0 = allowed).
    ///         `from == 0` checks a mint, `to == 0` a burn. See IBondCompliance for the codes.
    function detectTransferRestriction(address from, address to, uint256 amount) external view returns (uint8);

    /// @notice Burns the units of `holder` that record times already passed have retired and that are still in
    ///         its balance (see `UnitsRetired`); the series' payment code only, when it settles a retiring period.
    /// @return units the units burned now (0 when a balance change already burned them)
    function retire(address holder) external returns (uint256 units);

    /// @notice Number of investors holding a non-zero balance (linked multi-wallet investors count once, from the
    ///         first balance change touching them after a link, or syncInvestor; see accountState for the folded
    ///         view of one investor).
    function holderCount() external view returns (uint256);

    /// @notice What the payment agent reads per holder in one call: units at the scheduled record time `time`
    ///         (as `balanceOfAt`), whether the wallet is frozen now, and the agent's settlement bits.
    /// @dev The settlement bits are 29 spare bits of the holder's packed account word (see BondTokenStorage),
    ///      written only by the series' payment code, which runs in the token's storage.
    function paymentAccount(address holder, uint256 time)
        external
        view
        returns (uint256 units, bool frozen, uint256 settledBits);

    /// @notice Balance word fields of `account`: balance, frozen flags and aggregation identity, with the investor's
    ///         wallets folded as its next balance change would fold them (see syncInvestor).
    function accountState(address account)
        external
        view
        returns (uint256 balance, bool frozen, uint256 frozenTokens, address aggregationIdentity, uint256 aggregateBalance);

    /// @notice Folds the wallets of `wallet`'s investor into this series' aggregate now, as the next balance change
    ///         touching the investor would. Until then, after a wallet holding units here joined an investor who
    ///         also holds units here, holderCount counts them separately (a pending fold only over-counts).
    ///         Anyone may call it.
    function syncInvestor(address wallet) external;

    /// @notice The admin extension serving compliance configuration and documents through the fallback.
    function extension() external view returns (address);
}

/// @title IBondRetirementViews
/// @notice What a series says of units retired at record times (served by the admin extension).
interface IBondRetirementViews {
    /// @notice Units of `holder` retired at passed record times and not yet burned: they still count in
    ///         `balanceOf` and `totalSupply` but can no longer move (the next balance change burns them first).
    function pendingRetirement(address holder) external view returns (uint256);
}

/// @title IBondToken
/// @notice The complete ABI of a bond token (core + admin extension reached through the fallback).
interface IBondToken is IBondTokenCore, IBondTerms, IBondRetirementViews, IBondCompliance, IERC1643, IERC20Errors {}
