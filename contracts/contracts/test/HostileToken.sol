// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title HostileToken
/// @notice ERC-20 that misbehaves on demand, for attack tests only: it can reenter a target with
/// armed calldata during a transfer (bubbling the target's revert), and it can refuse transfers to
/// chosen recipients by reverting or by returning false. Never deploy it outside tests.
contract HostileToken is ERC20 {
    /// @notice How transfers to a recipient fail.
    enum FailMode {
        None,
        Revert,
        ReturnFalse
    }

    /// @notice Thrown for a transfer to a recipient in FailMode.Revert.
    error HostileTokenBlocked(address recipient);

    address private _reentryTarget;
    bytes private _reentryData;
    mapping(address recipient => FailMode) public failModeOf;

    constructor() ERC20("Hostile", "HOST") {}

    /// @notice Mints `amount` to `to`; anyone may call.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice On the next token movement, calls `target` with `data` once.
    function armReentry(address target, bytes calldata data) external {
        _reentryTarget = target;
        _reentryData = data;
    }

    /// @notice Sets how transfers to `recipient` fail.
    function setFailMode(address recipient, FailMode mode) external {
        failModeOf[recipient] = mode;
    }

    /// @inheritdoc ERC20
    function transfer(address to, uint256 value) public override returns (bool) {
        FailMode mode = failModeOf[to];
        if (mode == FailMode.Revert) revert HostileTokenBlocked(to);
        if (mode == FailMode.ReturnFalse) return false;
        return super.transfer(to, value);
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        address target = _reentryTarget;
        if (target != address(0)) {
            _reentryTarget = address(0);
            (bool ok, bytes memory returned) = target.call(_reentryData);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(returned, 0x20), mload(returned))
                }
            }
        }
    }
}
