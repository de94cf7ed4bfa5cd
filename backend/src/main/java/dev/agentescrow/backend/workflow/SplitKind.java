package dev.agentescrow.backend.workflow;

/**
 * How the workflow's amount is split between its steps (docs/workflows.md): EQUAL (the default),
 * WEIGHTS (each step's weight, the weights adding up to {@link Splits#WEIGHT_TOTAL}), PRICES (each
 * step's own price; the amount is their sum) and, in ATOMIC mode only, EXECUTION_TIME (by each
 * step's measured time from start to reported success, computed when the last step succeeds).
 */
public enum SplitKind {
    EQUAL, WEIGHTS, PRICES, EXECUTION_TIME
}
