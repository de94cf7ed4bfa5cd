package dev.agentescrow.chain.local;

import java.util.List;
import java.util.stream.IntStream;
import org.web3j.crypto.Bip32ECKeyPair;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.MnemonicUtils;

/**
 * The funded accounts of a local Hardhat or Anvil node, derived from their well-known public test
 * mnemonic (BIP-44 path m/44'/60'/0'/0/i). For local chains and tests only: anyone can spend
 * what these keys hold on a public network.
 */
public final class DevAccounts {
    /** The public test mnemonic of Hardhat and Anvil. Never holds real value. */
    public static final String TEST_MNEMONIC = "test test test test test test test test test test test junk";

    /** How many accounts a default Hardhat node funds. */
    public static final int FUNDED_ACCOUNTS = 20;

    private static final int HARDENED = 0x80000000;
    private static final List<Credentials> ACCOUNTS = derive(FUNDED_ACCOUNTS);

    private DevAccounts() {
    }

    /** Account {@code index} (0-based) of the test mnemonic. */
    public static Credentials account(int index) {
        if (index < 0 || index >= ACCOUNTS.size()) {
            throw new IllegalArgumentException("dev account index must be in [0, " + ACCOUNTS.size() + "): " + index);
        }
        return ACCOUNTS.get(index);
    }

    private static List<Credentials> derive(int count) {
        Bip32ECKeyPair master = Bip32ECKeyPair.generateKeyPair(MnemonicUtils.generateSeed(TEST_MNEMONIC, ""));
        return IntStream.range(0, count)
                .mapToObj(i -> Credentials.create(Bip32ECKeyPair.deriveKeyPair(master,
                        new int[] {44 | HARDENED, 60 | HARDENED, HARDENED, 0, i})))
                .toList();
    }
}
