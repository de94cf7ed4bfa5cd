package dev.agentescrow.backend.fee;

/** Why a change of the fee feature does not apply; each has a stable code and an HTTP status. */
public enum FeeRefusal {
    STAKEHOLDER_EXISTS(409, "FEE_STAKEHOLDER_EXISTS", "an active stakeholder has this account already"),
    STAKEHOLDER_REMOVED(409, "FEE_STAKEHOLDER_REMOVED", "the stakeholder was removed"),
    STAKEHOLDER_ID_CONFLICT(422, "FEE_STAKEHOLDER_ID_CONFLICT",
            "a stakeholder with other terms was added under this Idempotency-Key"),
    TOO_MANY_STAKEHOLDERS(422, "FEE_TOO_MANY_STAKEHOLDERS", "the number of active stakeholders is at its limit"),
    NO_STAKEHOLDERS(422, "FEE_NO_STAKEHOLDERS", "there is no active stakeholder to distribute to"),
    NOTHING_TO_DISTRIBUTE(422, "FEE_NOTHING_TO_DISTRIBUTE", "no fee was collected since the last period");

    private final int status;
    private final String code;
    private final String message;

    FeeRefusal(int status, String code, String message) {
        this.status = status;
        this.code = code;
        this.message = message;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public String message() {
        return message;
    }
}
