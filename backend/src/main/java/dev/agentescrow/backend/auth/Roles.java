package dev.agentescrow.backend.auth;

import dev.agentescrow.backend.config.BackendProperties;
import dev.agentescrow.chain.Address;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.stereotype.Component;

/** Roles: every signed-in address is an agent; the configured addresses are admins as well. */
@Component
public class Roles {
    public static final String AGENT = "ROLE_AGENT";
    public static final String ADMIN = "ROLE_ADMIN";

    private final Set<Address> admins;

    public Roles(BackendProperties properties) {
        this.admins = properties.admins().stream().filter(a -> !a.isBlank()).map(String::trim).map(Address::of)
                .collect(Collectors.toUnmodifiableSet());
    }

    public List<GrantedAuthority> of(Address address) {
        return admins.contains(address)
                ? List.of(new SimpleGrantedAuthority(AGENT), new SimpleGrantedAuthority(ADMIN))
                : List.of(new SimpleGrantedAuthority(AGENT));
    }

    public boolean isAdmin(Address address) {
        return admins.contains(address);
    }
}
