package dev.agentescrow.backend.escrow;

/** A party's role in an escrow: what it may do and how it finds the escrow in its list. */
public enum EscrowRole {
    PAYER, PAYEE, ARBITER, EVALUATOR
}
