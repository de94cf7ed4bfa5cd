package dev.agentescrow.backend.events;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Optional;

/**
 * Which webhook URLs the service calls: absolute http(s), a host, no credentials or fragment, at
 * most 2,048 characters; and, unless private addresses are allowed (the local profile), a host
 * that resolves only to public addresses (no loopback, private, link-local, unique-local, CGNAT,
 * multicast or unspecified address), checked when registered and again before every attempt.
 */
public final class WebhookUrlPolicy {
    public static final int MAX_URL_LENGTH = 2048;

    /** Why a URL is refused. */
    public enum Refusal {
        MALFORMED_URL("not an absolute URL with a host"),
        UNSUPPORTED_SCHEME("http or https only"),
        CREDENTIALS_IN_URL("no user or password in the URL"),
        FRAGMENT_IN_URL("no fragment (#...) in the URL"),
        URL_TOO_LONG("at most " + MAX_URL_LENGTH + " characters"),
        UNRESOLVABLE_HOST("the host does not resolve"),
        PRIVATE_ADDRESS("the host resolves to a loopback, private or otherwise non-public address");

        private final String message;

        Refusal(String message) {
            this.message = message;
        }

        public String message() {
            return message;
        }
    }

    private static final int MAX_PORT = 65_535;

    private final boolean allowPrivateAddresses;

    public WebhookUrlPolicy(boolean allowPrivateAddresses) {
        this.allowPrivateAddresses = allowPrivateAddresses;
    }

    /** The URL's shape only (no name resolution). */
    public Optional<Refusal> checkShape(String url) {
        if (url == null || url.isBlank()) {
            return Optional.of(Refusal.MALFORMED_URL);
        }
        if (url.length() > MAX_URL_LENGTH) {
            return Optional.of(Refusal.URL_TOO_LONG);
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            return Optional.of(Refusal.MALFORMED_URL);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!uri.isAbsolute() || !(scheme.equals("http") || scheme.equals("https"))) {
            return Optional.of(Refusal.UNSUPPORTED_SCHEME);
        }
        if (uri.getRawUserInfo() != null || (uri.getRawAuthority() != null && uri.getRawAuthority().contains("@"))) {
            return Optional.of(Refusal.CREDENTIALS_IN_URL);
        }
        if (uri.getRawFragment() != null) {
            return Optional.of(Refusal.FRAGMENT_IN_URL);
        }
        if (uri.getHost() == null || uri.getHost().isEmpty() || uri.getPort() > MAX_PORT) {
            // a port out of range: the HTTP client refuses it at each attempt (IllegalArgumentException)
            return Optional.of(Refusal.MALFORMED_URL);
        }
        return Optional.empty();
    }

    /** The shape, then where the host resolves to. */
    public Optional<Refusal> check(String url) {
        Optional<Refusal> shape = checkShape(url);
        if (shape.isPresent() || allowPrivateAddresses) {
            return shape;
        }
        InetAddress[] addresses;
        try {
            String host = URI.create(url).getHost();
            addresses = InetAddress.getAllByName(host.startsWith("[") ? host.substring(1, host.length() - 1) : host);
        } catch (UnknownHostException e) {
            return Optional.of(Refusal.UNRESOLVABLE_HOST);
        }
        for (InetAddress address : addresses) {
            if (!isPublic(address)) {
                return Optional.of(Refusal.PRIVATE_ADDRESS);
            }
        }
        return Optional.empty();
    }

    static boolean isPublic(InetAddress address) {
        if (address.isLoopbackAddress() || address.isAnyLocalAddress() || address.isLinkLocalAddress()
                || address.isSiteLocalAddress() || address.isMulticastAddress()) {
            return false;
        }
        byte[] b = address.getAddress();
        if (address instanceof Inet6Address) {
            boolean uniqueLocal = (b[0] & 0xfe) == 0xfc;
            boolean v4Mapped = isV4Mapped(b);
            if (v4Mapped) {
                try {
                    return isPublic(InetAddress.getByAddress(java.util.Arrays.copyOfRange(b, 12, 16)));
                } catch (UnknownHostException e) {
                    return false;
                }
            }
            return !uniqueLocal;
        }
        int first = b[0] & 0xff;
        int second = b[1] & 0xff;
        boolean zero = first == 0;
        boolean cgnat = first == 100 && second >= 64 && second <= 127;
        boolean benchmark = first == 198 && (second == 18 || second == 19);
        boolean reserved = first >= 240;
        return !(zero || cgnat || benchmark || reserved);
    }

    private static boolean isV4Mapped(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
    }
}
