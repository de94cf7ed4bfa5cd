package dev.agentescrow.backend.workflow;

/**
 * A workflow's states: RUNNING while a step is not final; then SUCCEEDED (every step succeeded),
 * FAILED (no step was paid: in ATOMIC mode any failure, in FLEXIBLE mode every step failed) or
 * PARTIAL (FLEXIBLE only: some steps paid, some refunded).
 */
public enum WorkflowState {
    RUNNING, SUCCEEDED, FAILED, PARTIAL
}
