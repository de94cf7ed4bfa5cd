package dev.agentescrow.chain;

import java.io.IOException;
import org.web3j.protocol.exceptions.TransactionException;

/**
 * Runs a wrapper call and maps web3j's checked and unchecked failures onto the gateway's two
 * exceptions: {@link ContractRevertedException} for reverts, {@link ChainException} for the rest.
 */
public final class Calls {
    /** A wrapper call. */
    @FunctionalInterface
    public interface ChainCall<T> {
        T run() throws Exception;
    }

    private Calls() {
    }

    /** A state-changing call: waits for the receipt; a mined but failed transaction is a revert. */
    public static <T> T send(ChainCall<T> call) {
        return run(call, "transaction");
    }

    /** A read-only call. */
    public static <T> T call(ChainCall<T> call) {
        return run(call, "call");
    }

    private static <T> T run(ChainCall<T> call, String what) {
        try {
            return call.run();
        } catch (ChainException e) {
            throw e;
        } catch (TransactionException e) {
            throw new ContractRevertedException(what + " failed: " + e.getMessage(), null,
                    e.getEncodedDataResponse().orElse(null));
        } catch (IOException e) {
            throw new ChainException(what + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ChainException(what + " interrupted", e);
        } catch (Exception e) {
            if (e.getCause() instanceof ChainException chain) {
                throw chain;
            }
            throw new ChainException(what + " failed: " + e.getMessage(), e);
        }
    }
}
