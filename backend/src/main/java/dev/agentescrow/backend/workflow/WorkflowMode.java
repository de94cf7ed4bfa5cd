package dev.agentescrow.backend.workflow;

/**
 * How a workflow pays: FLEXIBLE pays each step's agent as its step succeeds and refunds each failed
 * step's share; ATOMIC pays every agent at once when the last step succeeds, or refunds everything
 * on the first failure.
 */
public enum WorkflowMode {
    FLEXIBLE, ATOMIC
}
