package dev.agentescrow.backend.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class WebhookSignatureTest {
    private static final String SECRET = "whsec_test";
    private static final byte[] BODY = "{\"id\":\"e1\",\"type\":\"deposit.credited\"}".getBytes(StandardCharsets.UTF_8);

    @Test
    void the_header_is_t_and_v1_hmac_sha256_of_timestamp_dot_body_as_documented() throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String expected = HexFormat.of().formatHex(mac.doFinal(
                ("1700000000." + new String(BODY, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8)));
        assertThat(WebhookSignature.header(SECRET, 1_700_000_000L, BODY)).isEqualTo("t=1700000000,v1=" + expected);
    }

    @Test
    void verification_refuses_another_body_secret_or_an_old_timestamp() {
        String header = WebhookSignature.header(SECRET, 1_700_000_000L, BODY);
        assertThat(WebhookSignature.verify(SECRET, header, BODY, 1_700_000_100L, 300)).isTrue();
        assertThat(WebhookSignature.verify("whsec_other", header, BODY, 1_700_000_100L, 300)).isFalse();
        assertThat(WebhookSignature.verify(SECRET, header, "{}".getBytes(StandardCharsets.UTF_8), 1_700_000_100L, 300))
                .isFalse();
        assertThat(WebhookSignature.verify(SECRET, header, BODY, 1_700_000_400L, 300)).isFalse();
        assertThat(WebhookSignature.verify(SECRET, "t=1700000000", BODY, 1_700_000_000L, 300)).isFalse();
        assertThat(WebhookSignature.verify(SECRET, "garbage", BODY, 1_700_000_000L, 300)).isFalse();
        assertThat(WebhookSignature.verify(SECRET, null, BODY, 1_700_000_000L, 300)).isFalse();
    }
}
