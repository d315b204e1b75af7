// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IInvestorRecords
/// @notice Read surface of the shared investor registry that bond tokens and payment agents rely on.
/// @dev One packed storage slot per wallet. `identity` is the ERC-3643 investor identity (an address: an
///      ONCHAINID contract or an opaque id derived off chain); personal data never goes on chain.
interface IInvestorRecords {
    /// @notice The registry record of one wallet.
    /// @param identity investor identity shared by all wallets of the same investor (zero if not registered)
    /// @param country ISO-3166-1 numeric country code
    /// @param region region code inside the country (e.g. a Japanese local-government code); 0 = none
    /// @param category investor category (0 individual, 1 corporate, 2 qualified institutional, 3 public body, ...)
    /// @param taxClass withholding class used by payment agents
    /// @param kycExpiry Unix time after which the wallet is no longer verified
    /// @param multiWallet true when the investor has more than one registered wallet
    struct InvestorRecord {
        address identity;
        uint16 country;
        uint24 region;
        uint8 category;
        uint8 taxClass;
        uint32 kycExpiry;
        bool multiWallet;
    }

    /// @notice Returns the record of `wallet` (all zero when the wallet is not registered).
    function investorRecord(address wallet) external view returns (InvestorRecord memory);

    /// @notice True when `wallet` is registered and its KYC has not expired.
    function isVerified(address wallet) external view returns (bool);
}
