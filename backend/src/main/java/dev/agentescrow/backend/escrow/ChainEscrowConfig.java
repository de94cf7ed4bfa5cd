package dev.agentescrow.backend.escrow;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.chainlog.ChainLogHandler;
import java.time.Clock;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The TaskEscrow's log follower, when chain custody is offered (the deployment names a TaskEscrow). */
@Configuration(proxyBeanMethods = false)
public class ChainEscrowConfig {
    @Bean
    ChainLogHandler taskEscrowFollower(ChainEscrows escrows, ChainEscrowSettings settings, ChainEscrowStore chain,
                                       EscrowStore store, AuditLog audit, Clock clock) {
        return escrows.gateway().map(gateway -> (ChainLogHandler) new ChainEscrowEvents(ChainEscrowEvents.NAME,
                gateway, settings.startBlock(), chain, store, audit, clock)).orElse(null);
    }
}
