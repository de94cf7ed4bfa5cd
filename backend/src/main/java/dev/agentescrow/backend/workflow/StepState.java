package dev.agentescrow.backend.workflow;

/**
 * A step's states: WAITING for its dependencies, RUNNING (every dependency succeeded; its agent
 * works and reports), and the final SUCCEEDED and FAILED (reported, past its deadline, a dependency
 * failed, or in ATOMIC mode another step failed).
 */
public enum StepState {
    WAITING, RUNNING, SUCCEEDED, FAILED;

    public boolean isFinal() {
        return this == SUCCEEDED || this == FAILED;
    }
}
