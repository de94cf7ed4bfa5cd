package dev.agentescrow.backend.common.web;

import dev.agentescrow.backend.auth.AgentAuthentication;
import dev.agentescrow.chain.Address;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;

/** The signed-in principal of the current request. */
public final class Principals {
    private Principals() {
    }

    public static Address current() {
        Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
        if (authentication instanceof AgentAuthentication agent) {
            return agent.address();
        }
        throw new ApiException(org.springframework.http.HttpStatus.UNAUTHORIZED, "UNAUTHENTICATED",
                "authentication required");
    }
}
