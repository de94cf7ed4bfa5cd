// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title Disperse
/// @notice The classic Disperse patterns (disperse.app) for gas comparisons only:
/// `disperseToken` pulls the total once with transferFrom, then transfers to each recipient;
/// `disperseTokenSimple` makes one transferFrom per recipient. Test and benchmark use only.
contract Disperse {
    /// @notice Thrown when recipients and values differ in length.
    error DisperseLengthMismatch(uint256 recipients, uint256 values);

    /// @notice Thrown when a token call returns false.
    error DisperseTransferFailed(address to, uint256 value);

    /// @notice Sends `values[i]` of `token` from the caller to `recipients[i]`.
    function disperseToken(IERC20 token, address[] calldata recipients, uint256[] calldata values) external {
        if (recipients.length != values.length) revert DisperseLengthMismatch(recipients.length, values.length);
        uint256 total;
        for (uint256 i; i < values.length; ++i) {
            total += values[i];
        }
        if (!token.transferFrom(msg.sender, address(this), total)) revert DisperseTransferFailed(address(this), total);
        for (uint256 i; i < recipients.length; ++i) {
            if (!token.transfer(recipients[i], values[i])) revert DisperseTransferFailed(recipients[i], values[i]);
        }
    }

    /// @notice Sends `values[i]` of `token` from the caller to `recipients[i]`, one transferFrom each.
    function disperseTokenSimple(IERC20 token, address[] calldata recipients, uint256[] calldata values) external {
        if (recipients.length != values.length) revert DisperseLengthMismatch(recipients.length, values.length);
        for (uint256 i; i < recipients.length; ++i) {
            if (!token.transferFrom(msg.sender, recipients[i], values[i])) {
                revert DisperseTransferFailed(recipients[i], values[i]);
            }
        }
    }
}
