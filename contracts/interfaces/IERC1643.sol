// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IERC1643
/// @notice Document management, original ERC-1643 draft form with bytes32 names (ERC-165 id 0xecfecec8).
interface IERC1643 {
    /// @notice Emitted when a document is removed.
    event DocumentRemoved(bytes32 indexed _name, string _uri, bytes32 _documentHash);
    /// @notice Emitted when a document is added or changed.
    event DocumentUpdated(bytes32 indexed _name, string _uri, bytes32 _documentHash);

    /// @notice URI, content hash and last-modified time of a document.
    function getDocument(bytes32 _name) external view returns (string memory, bytes32, uint256);
    /// @notice Adds or replaces a document (document role).
    function setDocument(bytes32 _name, string calldata _uri, bytes32 _documentHash) external;
    /// @notice Removes a document (document role).
    function removeDocument(bytes32 _name) external;
    /// @notice Names of all documents.
    function getAllDocuments() external view returns (bytes32[] memory);
}
