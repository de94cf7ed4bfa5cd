// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title BlocklistEscrowToken
/// @notice ERC-20 for TaskEscrow tests only that, like USDC, refuses every transfer from or to a
/// blocklisted account. Anyone may mint and block (test token).
contract BlocklistEscrowToken is ERC20 {
    /// @notice `account` is blocklisted: it may neither send nor receive.
    error BlocklistEscrowTokenBlocked(address account);

    mapping(address account => bool) public blocked;

    constructor() ERC20("Blocklist Escrow Token", "BLOCK") {}

    /// @notice Mints `amount` to `to`.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Blocks or unblocks `account`.
    function setBlocked(address account, bool isBlocked) external {
        blocked[account] = isBlocked;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (blocked[from]) revert BlocklistEscrowTokenBlocked(from);
        if (blocked[to]) revert BlocklistEscrowTokenBlocked(to);
        super._update(from, to, value);
    }
}
