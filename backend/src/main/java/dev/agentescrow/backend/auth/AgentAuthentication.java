package dev.agentescrow.backend.auth;

import dev.agentescrow.chain.Address;
import java.util.Collection;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.core.GrantedAuthority;

/** An authenticated principal: an Ethereum address, signed in by SIWE (JWT) or by an API key. */
public final class AgentAuthentication extends AbstractAuthenticationToken {
    private static final long serialVersionUID = 1L;

    /** How the principal proved itself. */
    public enum Method { JWT, API_KEY }

    private final Address address;
    private final Method method;

    public AgentAuthentication(Address address, Method method, Collection<? extends GrantedAuthority> authorities) {
        super(authorities);
        this.address = address;
        this.method = method;
        setAuthenticated(true);
    }

    public Address address() {
        return address;
    }

    public Method method() {
        return method;
    }

    @Override
    public Object getCredentials() {
        return "";
    }

    @Override
    public Object getPrincipal() {
        return address.hex();
    }

    @Override
    public String getName() {
        return address.hex();
    }
}
