// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantEscrowToken
/// @notice Malicious ERC-20 for TaskEscrow tests only: on every transfer it calls `target` with
/// `payload` (once per transfer, not recursively). If `swallow` is set it records a failed
/// reentry instead of reverting, so the outer call can be observed completing.
contract ReentrantEscrowToken is ERC20 {
    address public target;
    bytes public payload;
    bool public swallow;
    bool public lastReentryFailed;
    bytes public lastRevertData;
    uint256 public reentries;
    bool private _inside;

    constructor() ERC20("Reentrant Escrow Token", "REENT") {}

    /// @notice Mints `amount` to `to`; anyone may call (test token).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the attack: every later transfer calls `target_` with `payload_`.
    function arm(address target_, bytes calldata payload_, bool swallow_) external {
        target = target_;
        payload = payload_;
        swallow = swallow_;
    }

    /// @notice Disarms the attack.
    function disarm() external {
        target = address(0);
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (target == address(0) || _inside || from == address(0)) return;
        _inside = true;
        reentries += 1;
        (bool ok, bytes memory data) = target.call(payload);
        _inside = false;
        if (!ok) {
            if (!swallow) {
                assembly ("memory-safe") {
                    revert(add(data, 0x20), mload(data))
                }
            }
            lastReentryFailed = true;
            lastRevertData = data;
        }
    }
}
