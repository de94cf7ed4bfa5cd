package dev.agentescrow.backend.config;

import dev.agentescrow.batcher.db.Database;
import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.batcher.runtime.BatcherConfig;
import dev.agentescrow.batcher.settlement.db.SettlementAddresses;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainSettings;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.web3j.crypto.Credentials;

/**
 * The database, the chain connection and the embedded batcher. One PostgreSQL serves both: the
 * service starts it (embedded unless {@code DATABASE_URL}) and hands its JDBC URL to the batcher.
 */
@Configuration(proxyBeanMethods = false)
public class InfrastructureConfig {

    @Bean
    Clock clock() {
        return Clock.systemUTC();
    }

    @Bean(destroyMethod = "close")
    Database database(BackendProperties properties) {
        DatabaseConfig config = OperatorKeys.hasText(properties.databaseUrl())
                ? DatabaseConfig.external(properties.databaseUrl(), properties.databaseUser(),
                        properties.databasePassword())
                : DatabaseConfig.embedded(properties.dataDir().resolve("postgres"));
        return Database.start(config.withPoolSize(16));
    }

    /** The service's own tables, in schema {@code backend} (the batcher's are in {@code public}). */
    @Bean
    DataSource dataSource(Database database) {
        DataSource dataSource = database.dataSource();
        Flyway.configure()
                .dataSource(dataSource)
                .locations("classpath:db/backend")
                .schemas("backend")
                .defaultSchema("backend")
                .table("backend_schema_history")
                .load()
                .migrate();
        return dataSource;
    }

    @Bean
    ChainDeployment chainDeployment(BackendProperties properties) {
        return ChainDeployment.read(properties.deploymentFile());
    }

    @Bean
    ChainSettings chainSettings(BackendProperties properties, ChainDeployment deployment) {
        return new ChainSettings(properties.chainRpcUrl(), deployment.chainId(), Duration.ofMillis(50),
                Duration.ofSeconds(120));
    }

    @Bean(destroyMethod = "close")
    ChainClient chainClient(ChainSettings settings) {
        return ChainClient.connect(settings);
    }

    /** The on-chain addresses of the ledger's FEES (the deployment's fee recipient) and ESCROW accounts. */
    @Bean
    SettlementAddresses settlementAddresses(BackendProperties properties, ChainDeployment deployment) {
        Address escrowHolder = OperatorKeys.hasText(properties.escrowHolder())
                ? Address.of(properties.escrowHolder()) : deployment.operator();
        return new SettlementAddresses(deployment.feeRecipient(), escrowHolder);
    }

    @Bean(destroyMethod = "close")
    Batcher batcher(BackendProperties properties, Database database, DataSource dataSource,
                    ChainSettings chainSettings, ChainDeployment deployment, SettlementAddresses systemAccounts,
                    Clock clock, MeterRegistry registry) {
        Credentials operator = OperatorKeys.operator(properties);
        DatabaseConfig shared = database.isEmbedded()
                ? DatabaseConfig.external(database.jdbcUrl(), "postgres", "postgres")
                : DatabaseConfig.external(properties.databaseUrl(), properties.databaseUser(),
                        properties.databasePassword());
        BatcherConfig config = BatcherConfig.defaults(shared, chainSettings, deployment.vault(),
                        properties.vaultDeploymentBlock(), systemAccounts)
                .withConfirmations(properties.confirmations())
                .withTrigger(properties.transfersPerBatch(), Duration.ofSeconds(properties.batchIntervalSeconds()))
                .withSchedule(new BatcherConfig.Schedule(Duration.ofSeconds(1), Duration.ofSeconds(1),
                        Duration.ofSeconds(1), Duration.ofMinutes(10)));
        return Batcher.start(config, operator, clock, registry);
    }
}
