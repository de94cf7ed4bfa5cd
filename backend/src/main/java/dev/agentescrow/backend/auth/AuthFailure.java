package dev.agentescrow.backend.auth;

/** Why a Sign-In with Ethereum attempt was refused; each is a 401 with its own problem code. */
public enum AuthFailure {
    SIWE_MALFORMED("the message is not a well-formed EIP-4361 message"),
    SIWE_DOMAIN_MISMATCH("the message is for another domain"),
    SIWE_URI_MISMATCH("the message is for another URI"),
    SIWE_CHAIN_MISMATCH("the message is for another chain"),
    SIWE_EXPIRED("the message has expired"),
    SIWE_NOT_YET_VALID("the message is not valid yet"),
    SIWE_BAD_SIGNATURE("the signature is not the address's"),
    SIWE_NONCE_UNKNOWN("the nonce was not issued by this service, or was used already"),
    SIWE_NONCE_EXPIRED("the nonce has expired; ask for a new one");

    private final String detail;

    AuthFailure(String detail) {
        this.detail = detail;
    }

    public String detail() {
        return detail;
    }
}
