package dev.agentescrow.backend.events;

import java.util.Arrays;
import java.util.Optional;

/** The kinds of events agents receive; {@link #wireName()} is the {@code type} in every payload. */
public enum EventType {
    DEPOSIT_CREDITED("deposit.credited"),
    TRANSFER_SETTLED("transfer.settled"),
    WITHDRAWAL_PAID("withdrawal.paid"),
    ESCROW_CREATED("escrow.created"),
    ESCROW_ACCEPTED("escrow.accepted"),
    ESCROW_CANCELLED("escrow.cancelled"),
    ESCROW_RELEASED("escrow.released"),
    ESCROW_REFUNDED("escrow.refunded"),
    ESCROW_DISPUTED("escrow.disputed"),
    ESCROW_RESOLVED("escrow.resolved"),
    ESCROW_FALLBACK_APPLIED("escrow.fallback_applied"),
    ESCROW_FUNDING_EXPIRED("escrow.funding_expired"),
    ESCROW_RETRACTED("escrow.retracted"),
    CHANNEL_OPENED("channel.opened"),
    CHANNEL_ACCEPTED("channel.accepted"),
    CHANNEL_DEPOSITED("channel.deposited"),
    CHANNEL_WITHDRAWN("channel.withdrawn"),
    CHANNEL_CLOSED("channel.closed"),
    CHANNEL_CHALLENGED("channel.challenged"),
    CHANNEL_SETTLED("channel.settled"),
    CHANNEL_PAYOUT_REFUSED("channel.payout_refused"),
    CHANNEL_CLAIMED("channel.claimed"),
    CHANNEL_DEFENDED("channel.defended"),
    CHANNEL_RETRACTED("channel.retracted"),
    MARKET_REQUEST_CREATED("market.request_created"),
    MARKET_REQUEST_COMPLETED("market.request_completed"),
    MARKET_REQUEST_SCORED("market.request_scored"),
    MARKET_TASK_POSTED("market.task_posted"),
    MARKET_BID_PLACED("market.bid_placed"),
    MARKET_TASK_ALLOCATED("market.task_allocated"),
    MARKET_TASK_UNALLOCATED("market.task_unallocated"),
    MARKET_TASK_COMPLETED("market.task_completed"),
    MARKET_TASK_SCORED("market.task_scored"),
    MARKET_TASK_FAILURE_REPORTED("market.task_failure_reported"),
    MARKET_TASK_DISPUTED("market.task_disputed"),
    MARKET_TASK_FAILED("market.task_failed"),
    MARKET_TASK_RESOLVED("market.task_resolved"),
    /** A task's escrow ended by the escrow's own rules (its periods, or a party through the escrow API). */
    MARKET_TASK_CLOSED("market.task_closed"),
    /** A request's escrow ended by the escrow's own rules (its periods, or a party through the escrow API). */
    MARKET_REQUEST_CLOSED("market.request_closed"),
    MARKET_REQUEST_FAILURE_REPORTED("market.request_failure_reported"),
    MARKET_REQUEST_DISPUTED("market.request_disputed"),
    MARKET_REQUEST_FAILED("market.request_failed"),
    MARKET_REQUEST_RESOLVED("market.request_resolved"),
    WORKFLOW_CREATED("workflow.created"),
    WORKFLOW_STEP_SUCCEEDED("workflow.step_succeeded"),
    WORKFLOW_STEP_FAILED("workflow.step_failed"),
    WORKFLOW_FINISHED("workflow.finished"),
    /** A sealed bid on a workflow's auctioned step (to the bidder). */
    WORKFLOW_BID_PLACED("workflow.bid_placed"),
    /** An auctioned step allocated to its winner (to the workflow's parties, the winner included). */
    WORKFLOW_STEP_ALLOCATED("workflow.step_allocated"),
    /** A fee distribution paid a stakeholder its part of one token and fee type (issue 16). */
    FEE_DISTRIBUTED("fee.distributed");

    private final String wireName;

    EventType(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public static Optional<EventType> fromWireName(String name) {
        return Arrays.stream(values()).filter(t -> t.wireName.equals(name)).findFirst();
    }
}
