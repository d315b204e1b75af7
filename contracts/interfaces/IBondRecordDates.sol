// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IBondRecordDates
/// @notice Record-date balance checkpoints kept by a bond token for its payment agent.
/// @dev Checkpoints are written lazily: only the first balance change of an account after a scheduled
///      record time stores the balance that account had at that record time.
interface IBondRecordDates {
    /// @notice Emitted when the scheduled record times change (at set-up or by an admin amendment).
    event RecordTimesUpdated(uint256[] oldTimes, uint256[] newTimes);
    /// @notice Emitted when the series is set to close (or no longer to close) after its last record time.
    event ClosesAfterLastRecordTimeSet(bool oldCloses, bool newCloses);

    /// @notice Thrown when `time` is not a scheduled record time.
    error UnknownRecordTime(uint256 time);
    /// @notice Thrown when a balance at record time `time` is asked for before that time has passed.
    error RecordTimeNotPassed(uint256 time, uint256 nowTime);
    /// @notice Thrown when record times are not strictly increasing or would rewrite a passed record time.
    error InvalidRecordTimes(uint256 index, uint256 time);

    /// @notice All scheduled record times (Unix seconds, strictly increasing).
    function recordTimes() external view returns (uint256[] memory);

    /// @notice Replaces the record times not yet passed; times already passed must be kept unchanged (admin, or
    ///         the series' payment code when it keeps the record times in step with its periods).
    function setRecordTimes(uint256[] calldata times) external;

    /// @notice Whether units stop moving once the last scheduled record time has passed (restriction code 17,
    ///         SERIES_REDEEMED, for every transfer, mint, forced transfer and recovery; burns and redemptions
    ///         still run). Set by the payment agent when its last period retires every unit (final redemption
    ///         or full call): units moved after that record time would be neither paid nor burned.
    function closesAfterLastRecordTime() external view returns (bool);

    /// @notice Sets `closesAfterLastRecordTime` (admin, or the series' payment code).
    function setClosesAfterLastRecordTime(bool closes) external;

    /// @notice Balance of `holder` at the scheduled record time `time` (which must have passed).
    function balanceOfAt(address holder, uint256 time) external view returns (uint256);

    /// @notice Total supply at the scheduled record time `time` (which must have passed).
    function totalSupplyAt(uint256 time) external view returns (uint256);
}
