// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantChannelToken
/// @notice Malicious ERC-20 for PaymentChannels tests only: once armed, its next transfer calls
/// back into `target` with `callData` and bubbles up any revert, so a reentrancy guard shows.
contract ReentrantChannelToken is ERC20 {
    address private _target;
    bytes private _callData;

    constructor() ERC20("Reentrant Channel Token", "RCT") {}

    /// @notice Mints `amount` to `to`; anyone may, it is a test token.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Makes the next transfer call `target` with `callData` before moving the tokens.
    function arm(address target, bytes calldata callData) external {
        _target = target;
        _callData = callData;
    }

    function _update(address from, address to, uint256 value) internal override {
        address target = _target;
        if (target != address(0)) {
            _target = address(0);
            (bool ok, bytes memory result) = target.call(_callData);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(result, 0x20), mload(result))
                }
            }
        }
        super._update(from, to, value);
    }
}
