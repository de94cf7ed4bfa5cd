package dev.agentescrow.backend.market;

import dev.agentescrow.backend.escrow.Escrow;
import dev.agentescrow.backend.escrow.EscrowState;
import dev.agentescrow.backend.escrow.EscrowStore;
import dev.agentescrow.backend.escrow.Escrows;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * How a marketplace escrow (a task's or a request's) ended, so that the task or request it funds
 * can never disagree with it (docs/marketplace.md, "When the escrow ends on its own terms").
 *
 * <p>The escrow's own periods (its deadline and grace, its arbitration period) run out on the
 * escrow's schedule too; the marketplace acts first: in the transaction that holds the task's (or
 * request's) row lock it applies the escrow's due move itself ({@link Escrows#settleDue}, joined to
 * that transaction), so both rows change together. If the escrow ended some other way first (the
 * escrow's schedule, or a party through {@code /api/v1/escrows}), the task's final state is derived
 * from the escrow's: its last paying action and what payee 0 was paid.
 */
@Component
public class EscrowClosure {
    /** How the escrow ended. */
    public enum How {
        /** Refunded to the payer after its deadline (by the payer, or anyone after the grace period). */
        EXPIRED,
        /** Its arbitration period ended undecided: the terms' fallback (REFUND_PAYER for the marketplace). */
        FALLBACK,
        /** Its arbiter resolved a dispute with a split. */
        ARBITER,
        /** The payer released everything to the payee. */
        RELEASED
    }

    /** How the escrow ended, what payee 0 (the worker) was paid gross, what went back to the payer, and when. */
    public record Closure(How how, BigInteger payout, BigInteger refund, Instant at) {
    }

    private final Escrows escrows;

    public EscrowClosure(Escrows escrows) {
        this.escrows = escrows;
    }

    /** Whether the escrow's own schedule may act on it at {@code now}: its grace period or arbitration period ended. */
    public static boolean due(Escrow e, Instant now) {
        return ((e.state() == EscrowState.OPEN || e.state() == EscrowState.FUNDED) && now.isAfter(e.graceEnd()))
                || (e.state() == EscrowState.DISPUTED && now.isAfter(e.arbitrationDeadline()));
    }

    /** Whether the escrow ended, or its own schedule may end it now: the work it funds has something to settle. */
    public static boolean endedOrDue(Escrow e, Instant now) {
        return e.state().isFinal() || due(e, now);
    }

    /**
     * In the caller's transaction (holding the task's or request's row lock): the escrow's due move
     * if one is due and nobody else holds the escrow, then how the escrow ended. Empty while it runs
     * (or another transaction is settling it: the next trigger finds it ended). A refusal of the due
     * move marks {@code rollback} (the escrow's refusal already marked the shared transaction).
     */
    public Optional<Closure> settle(String escrowId, Instant now, Runnable rollback) {
        Escrow escrow = escrows.find(escrowId).orElseThrow();
        if (!escrow.state().isFinal() && due(escrow, now)) {
            Optional<Escrows.Result> moved = escrows.settleDue(escrowId);
            if (moved.isEmpty()) {
                return Optional.empty();
            }
            if (!moved.get().ok()) {
                rollback.run();
                return Optional.empty();
            }
            escrow = moved.get().escrow();
        }
        return ended(escrow);
    }

    /** How an ended escrow ended (empty while it runs): its last paying action and what payee 0 was paid. */
    public Optional<Closure> ended(Escrow escrow) {
        if (!escrow.state().isFinal()) {
            return Optional.empty();
        }
        List<EscrowStore.HistoryEntry> history = escrows.history(escrow.id());
        EscrowStore.HistoryEntry last = history.getLast();
        How how = switch (last.action()) {
            case FALLBACK_APPLIED -> How.FALLBACK;
            case RESOLVED -> How.ARBITER;
            case RELEASED -> How.RELEASED;
            default -> How.EXPIRED;
        };
        BigInteger paid = escrow.payees().getFirst().released();
        return Optional.of(new Closure(how, paid, escrow.amount().subtract(paid), last.occurredAt()));
    }
}
