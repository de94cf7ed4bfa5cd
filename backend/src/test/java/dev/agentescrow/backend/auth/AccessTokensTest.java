package dev.agentescrow.backend.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.Address;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.springframework.security.oauth2.jwt.JwtException;

/** Access tokens name the deployment they were issued for; another deployment with the same secret refuses them. */
class AccessTokensTest {
    static final String SECRET = "a-shared-jwt-secret-of-at-least-32-bytes!";
    static final Address VAULT = Address.of("0x00000000000000000000000000000000000000a1");
    static final Address OTHER_VAULT = Address.of("0x00000000000000000000000000000000000000a2");
    static final Address AGENT = Address.of("0x000000000000000000000000000000000000a11c");

    private static AccessTokens tokens(long chainId, Address vault) {
        return new AccessTokens(SECRET, Duration.ofHours(1), AccessTokens.audience(chainId, vault), Clock.systemUTC());
    }

    @Test
    void a_token_works_on_its_own_deployment() {
        AccessTokens here = tokens(31337, VAULT);
        assertThat(here.decoder().decode(here.issue(AGENT).token()).getSubject()).isEqualTo(AGENT.hex());
    }

    @Test
    void decoding_a_token_throws_no_exception_inside() throws Exception {
        AccessTokens here = tokens(31337, VAULT);
        String token = here.issue(AGENT).token();
        here.decoder().decode(token);
        Path dump = Files.createTempFile("access-tokens", ".jfr");
        try (Recording recording = new Recording()) {
            recording.enable("jdk.JavaExceptionThrow").withStackTrace();
            recording.start();
            for (int i = 0; i < 50; i++) {
                here.decoder().decode(token);
            }
            recording.stop();
            recording.dump(dump);
            long thrown = RecordingFile.readAllEvents(dump).stream()
                    .filter(e -> e.getThread() != null && e.getThread().getJavaThreadId() == Thread.currentThread().threadId())
                    .count();
            assertThat(thrown).as("exceptions thrown while decoding 50 tokens").isZero();
        } finally {
            Files.deleteIfExists(dump);
        }
    }

    @Test
    void attack_a_token_of_another_chain_or_vault_with_the_same_secret_is_refused() {
        String testnet = tokens(11155111, VAULT).issue(AGENT).token();
        String otherVault = tokens(31337, OTHER_VAULT).issue(AGENT).token();
        AccessTokens here = tokens(31337, VAULT);
        assertThatThrownBy(() -> here.decoder().decode(testnet)).isInstanceOf(JwtException.class);
        assertThatThrownBy(() -> here.decoder().decode(otherVault)).isInstanceOf(JwtException.class);
    }
}
