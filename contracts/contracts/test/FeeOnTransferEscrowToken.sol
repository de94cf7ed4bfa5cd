// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title FeeOnTransferEscrowToken
/// @notice ERC-20 for TaskEscrow tests only that burns 1% of every transfer between two
/// non-zero accounts, so the recipient receives less than the amount sent.
contract FeeOnTransferEscrowToken is ERC20 {
    constructor() ERC20("Fee On Transfer Escrow Token", "FOT") {}

    /// @notice Mints `amount` to `to`; anyone may call (test token).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) {
            super._update(from, to, value);
            return;
        }
        uint256 burned = value / 100;
        super._update(from, address(0), burned);
        super._update(from, to, value - burned);
    }
}
