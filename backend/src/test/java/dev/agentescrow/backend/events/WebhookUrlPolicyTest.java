package dev.agentescrow.backend.events;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.events.WebhookUrlPolicy.Refusal;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class WebhookUrlPolicyTest {
    private final WebhookUrlPolicy production = new WebhookUrlPolicy(false);
    private final WebhookUrlPolicy local = new WebhookUrlPolicy(true);

    @Test
    void shape_http_or_https_with_a_host_and_no_credentials_or_fragment() {
        assertThat(production.check("https://93.184.216.34/hooks")).isEmpty();
        assertThat(production.check("http://93.184.216.34:8443/a?b=c")).isEmpty();
        assertThat(production.check("ftp://93.184.216.34/")).contains(Refusal.UNSUPPORTED_SCHEME);
        assertThat(production.check("/relative")).contains(Refusal.UNSUPPORTED_SCHEME);
        assertThat(production.check("https://user:pw@93.184.216.34/")).contains(Refusal.CREDENTIALS_IN_URL);
        assertThat(production.check("https://user@93.184.216.34/")).contains(Refusal.CREDENTIALS_IN_URL);
        assertThat(production.check("https://93.184.216.34/#frag")).contains(Refusal.FRAGMENT_IN_URL);
        assertThat(production.check("https:///nohost")).contains(Refusal.MALFORMED_URL);
        assertThat(production.check("not a url")).contains(Refusal.MALFORMED_URL);
        assertThat(production.check("https://93.184.216.34/" + "a".repeat(2100))).contains(Refusal.URL_TOO_LONG);
        assertThat(production.check(null)).contains(Refusal.MALFORMED_URL);
        assertThat(production.check("http://93.184.216.34:99999/")).contains(Refusal.MALFORMED_URL);
        assertThat(production.check("http://93.184.216.34:65535/")).isEmpty();
    }

    @Test
    void outside_the_local_profile_loopback_private_link_local_and_other_non_public_addresses_are_refused() {
        for (String host : new String[] {"127.0.0.1", "localhost", "10.1.2.3", "172.16.0.1", "192.168.1.1",
                "169.254.169.254", "100.64.0.1", "0.0.0.0", "[::1]", "[fc00::1]", "[fe80::1]", "[::ffff:127.0.0.1]",
                "224.0.0.1", "240.0.0.1"}) {
            assertThat(production.check("http://" + host + ":8080/hook")).as(host).contains(Refusal.PRIVATE_ADDRESS);
        }
    }

    @Test
    void the_local_profile_allows_loopback() {
        assertThat(local.check("http://127.0.0.1:8080/hook")).isEqualTo(Optional.empty());
        assertThat(local.check("http://user:pw@127.0.0.1/")).contains(Refusal.CREDENTIALS_IN_URL);
    }
}
