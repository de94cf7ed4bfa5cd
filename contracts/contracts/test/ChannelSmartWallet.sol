// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title ChannelSmartWallet
/// @notice Minimal contract wallet for PaymentChannels tests only: its owner makes it call other
/// contracts, may hand ownership to another key (key rotation), and it answers ERC-1271 for the
/// current owner's key. PaymentChannels must ignore ERC-1271 and rotation: a wallet names a
/// fixed signing key when it enters a channel.
contract ChannelSmartWallet is IERC1271 {
    /// @notice Thrown when someone other than the owner calls an owner-only function.
    error ChannelSmartWalletNotOwner(address caller);

    address public owner;

    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice Calls `target` with `data` and bubbles up any revert. Owner only.
    function execute(address target, bytes calldata data) external returns (bytes memory result) {
        if (msg.sender != owner) revert ChannelSmartWalletNotOwner(msg.sender);
        bool ok;
        (ok, result) = target.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }

    /// @notice Hands the wallet to `newOwner` (a key rotation). Owner only.
    function setOwner(address newOwner) external {
        if (msg.sender != owner) revert ChannelSmartWalletNotOwner(msg.sender);
        owner = newOwner;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address signer, ECDSA.RecoverError error,) = ECDSA.tryRecover(hash, signature);
        return error == ECDSA.RecoverError.NoError && signer == owner ? this.isValidSignature.selector : bytes4(0);
    }
}
