package dev.agentescrow.backend.auth;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.web3j.crypto.Keys;

/**
 * A Sign-In with Ethereum message (EIP-4361), parsed strictly: every line in the order the EIP's
 * ABNF gives, the address in EIP-55 form, version 1, an alphanumeric nonce of at least 8
 * characters, RFC 3339 times, no trailing or unknown lines, no control characters.
 * {@link #parse} returns empty for anything else.
 */
public record SiweMessage(String scheme, String domain, String address, String statement, String uri,
                          String version, long chainId, String nonce, Instant issuedAt, Instant expirationTime,
                          Instant notBefore, String requestId, List<String> resources) {

    /** The longest message accepted, in characters. */
    public static final int MAX_LENGTH = 4096;

    private static final String HEADER_SUFFIX = " wants you to sign in with your Ethereum account:";
    private static final Pattern SCHEME = Pattern.compile("[a-zA-Z][a-zA-Z0-9+.-]*");
    private static final Pattern DOMAIN = Pattern.compile("[A-Za-z0-9.\\-\\[\\]:%_~!$&'()*+,;=@]+");
    private static final Pattern ADDRESS = Pattern.compile("0x[0-9a-fA-F]{40}");
    private static final Pattern NONCE = Pattern.compile("[a-zA-Z0-9]{8,}");
    private static final Pattern CHAIN_ID = Pattern.compile("[1-9][0-9]{0,17}");
    private static final Pattern PRINTABLE = Pattern.compile("[^\\p{Cntrl}]*");

    /** Parses {@code text}; empty if it is not a well-formed EIP-4361 message. */
    public static Optional<SiweMessage> parse(String text) {
        if (text == null || text.isEmpty() || text.length() > MAX_LENGTH || text.indexOf('\r') >= 0) {
            return Optional.empty();
        }
        String[] lines = text.split("\n", -1);
        for (String line : lines) {
            if (!PRINTABLE.matcher(line).matches()) {
                return Optional.empty();
            }
        }
        Cursor in = new Cursor(lines);
        String header = in.next();
        if (header == null || !header.endsWith(HEADER_SUFFIX)) {
            return Optional.empty();
        }
        String origin = header.substring(0, header.length() - HEADER_SUFFIX.length());
        String scheme = null;
        int schemeEnd = origin.indexOf("://");
        if (schemeEnd >= 0) {
            scheme = origin.substring(0, schemeEnd);
            origin = origin.substring(schemeEnd + 3);
            if (!SCHEME.matcher(scheme).matches()) {
                return Optional.empty();
            }
        }
        if (!DOMAIN.matcher(origin).matches()) {
            return Optional.empty();
        }
        String address = in.next();
        if (address == null || !ADDRESS.matcher(address).matches() || !Keys.toChecksumAddress(address).equals(address)) {
            return Optional.empty();
        }
        if (!"".equals(in.next())) {
            return Optional.empty();
        }
        String statement = null;
        String line = in.next();
        if (line == null) {
            return Optional.empty();
        }
        if (!line.isEmpty()) {
            statement = line;
            if (!"".equals(in.next())) {
                return Optional.empty();
            }
        }
        Optional<String> uri = in.field("URI: ");
        Optional<String> version = in.field("Version: ");
        Optional<String> chainId = in.field("Chain ID: ");
        Optional<String> nonce = in.field("Nonce: ");
        Optional<String> issuedAt = in.field("Issued At: ");
        if (uri.isEmpty() || !isUri(uri.get()) || !version.equals(Optional.of("1"))
                || chainId.isEmpty() || !CHAIN_ID.matcher(chainId.get()).matches()
                || nonce.isEmpty() || !NONCE.matcher(nonce.get()).matches() || issuedAt.isEmpty()) {
            return Optional.empty();
        }
        Optional<String> expiration = in.optionalField("Expiration Time: ");
        Optional<String> notBefore = in.optionalField("Not Before: ");
        Optional<String> requestId = in.optionalField("Request ID: ");
        List<String> resources = new ArrayList<>();
        if (in.peekEquals("Resources:")) {
            in.next();
            while (in.hasNext()) {
                String resource = in.next();
                if (!resource.startsWith("- ") || !isUri(resource.substring(2))) {
                    return Optional.empty();
                }
                resources.add(resource.substring(2));
            }
        }
        if (in.hasNext()) {
            return Optional.empty();
        }
        Optional<Instant> issued = time(issuedAt.get());
        Optional<Instant> expires = expiration.flatMap(SiweMessage::time);
        Optional<Instant> validFrom = notBefore.flatMap(SiweMessage::time);
        if (issued.isEmpty() || expiration.isPresent() != expires.isPresent()
                || notBefore.isPresent() != validFrom.isPresent()) {
            return Optional.empty();
        }
        return Optional.of(new SiweMessage(scheme, origin, address, statement, uri.get(), version.get(),
                Long.parseLong(chainId.get()), nonce.get(), issued.get(), expires.orElse(null),
                validFrom.orElse(null), requestId.orElse(null), List.copyOf(resources)));
    }

    private static boolean isUri(String value) {
        try {
            URI parsed = new URI(value);
            return parsed.getScheme() != null;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private static Optional<Instant> time(String value) {
        try {
            return Optional.of(OffsetDateTime.parse(value, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant());
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /** Reads lines in order. */
    private static final class Cursor {
        private final String[] lines;
        private int position;

        Cursor(String[] lines) {
            this.lines = lines;
        }

        boolean hasNext() {
            return position < lines.length;
        }

        String next() {
            return hasNext() ? lines[position++] : null;
        }

        boolean peekEquals(String value) {
            return hasNext() && lines[position].equals(value);
        }

        /** The value of a required field on the next line. */
        Optional<String> field(String prefix) {
            String line = next();
            if (line == null || !line.startsWith(prefix) || line.length() == prefix.length()) {
                return Optional.empty();
            }
            return Optional.of(line.substring(prefix.length()));
        }

        /** The value of an optional field, consumed only if the next line is that field. */
        Optional<String> optionalField(String prefix) {
            if (hasNext() && lines[position].startsWith(prefix)) {
                return Optional.of(next().substring(prefix.length()));
            }
            return Optional.empty();
        }
    }
}
