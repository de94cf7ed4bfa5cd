package dev.agentescrow.batcher.command;

/**
 * The business rules under which the service moves money without the payer's word in the request
 * ({@link ServiceCommands}); each movement's audit row names one.
 */
public enum ServiceRule {
    /** The task's evaluator accepted the work: (part of) the escrow goes to the payee. */
    EVALUATOR_RELEASE,
    /** An arbiter decided a dispute: the escrow goes to one side. */
    ARBITER_RELEASE,
    /** An arbiter decided a dispute with a split between the parties. */
    ARBITER_SPLIT,
    /** The split fixed in the escrow's terms, applied when a dispute passes its deadline. */
    FALLBACK_SPLIT,
    /** The escrow's deadline passed without release: the rest returns to the payer. */
    DEADLINE_REFUND,
    /** A scheduled job expired a hold or an escrow. */
    SCHEDULED_EXPIRY,
    /** Collected fees paid out to their recipients. */
    FEE_DISTRIBUTION,
    /** The platform's fee taken from an escrow on release. */
    PLATFORM_FEE
}
