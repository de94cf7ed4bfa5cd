package dev.agentescrow.batcher.indexer.db;

import dev.agentescrow.batcher.indexer.DepositSink;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.chain.LogPosition;
import dev.agentescrow.chain.vault.VaultDeposit;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.web3j.crypto.Hash;
import org.web3j.utils.Numeric;

/**
 * Credits a confirmed vault deposit in the ledger as the transfer CUSTODY -> USER(account, token).
 * Its id is derived from the deposit's position, {@link #transferId}, so that a replay of the same
 * deposit is the ledger's idempotent {@code EXISTS} and nothing is credited twice.
 */
public final class LedgerDepositSink implements DepositSink {
    private static final Logger log = LoggerFactory.getLogger(LedgerDepositSink.class);

    private final Ledger ledger;

    public LedgerDepositSink(Ledger ledger) {
        this.ledger = Objects.requireNonNull(ledger, "ledger");
    }

    /** The first 16 bytes of keccak256(txHash || uint256 logIndex). */
    public static TransferId transferId(LogPosition position) {
        byte[] input = new byte[64];
        byte[] hash = Numeric.hexStringToByteArray(position.txHash().value());
        System.arraycopy(hash, 0, input, 32 - hash.length, hash.length);
        byte[] index = Numeric.toBytesPadded(BigInteger.valueOf(position.logIndex()), 32);
        System.arraycopy(index, 0, input, 32, 32);
        return TransferId.of(new BigInteger(1, Arrays.copyOf(Hash.sha3(input), 16)));
    }

    /** The transfer's reference: {@code deposit:<txHash>:<logIndex>}. */
    public static String reference(LogPosition position) {
        return "deposit:" + position.txHash().value() + ":" + position.logIndex();
    }

    @Override
    public Outcome credit(VaultDeposit deposit) {
        TransferRequest request = TransferRequest.single(transferId(deposit.position()),
                AccountKey.custody(deposit.token()), AccountKey.user(deposit.account(), deposit.token()),
                deposit.amount()).withReference(reference(deposit.position()));
        TransferResult result = ledger.submit(request);
        return switch (result) {
            case OK -> Outcome.CREDITED;
            case EXISTS -> Outcome.ALREADY_CREDITED;
            default -> {
                log.error("deposit {} of {} {} by {} not credited: {}", reference(deposit.position()),
                        deposit.amount(), deposit.token(), deposit.account(), result);
                yield Outcome.REJECTED;
            }
        };
    }
}
