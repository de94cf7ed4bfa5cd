package dev.agentescrow.backend.config;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.agentescrow.backend.cluster.ClusterProperties;
import dev.agentescrow.backend.cluster.DatabaseServer;
import dev.agentescrow.batcher.db.Database;
import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.leadership.LeadershipConfig;
import dev.agentescrow.batcher.ledger.LedgerConfig;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.batcher.runtime.BatcherConfig;
import dev.agentescrow.batcher.settlement.db.SettlementAddresses;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainSettings;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.springframework.core.env.Environment;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.web3j.crypto.Credentials;

/**
 * The database, the service's connection pool, the chain connection and the embedded batcher. One
 * PostgreSQL serves both the batcher (schema {@code public}) and the service (schema
 * {@code backend}); the service starts it (embedded unless {@code DATABASE_URL}), owns the one pool,
 * and starts the batcher on that pool with its ledger and leadership settings. Spring closes beans
 * in reverse order of dependency: the batcher first, then the pool, then the embedded PostgreSQL.
 */
@Configuration(proxyBeanMethods = false)
public class InfrastructureConfig {

    @Bean
    Clock clock() {
        return Clock.systemUTC();
    }

    @Bean(destroyMethod = "close")
    DatabaseServer databaseServer(BackendProperties properties) {
        return OperatorKeys.hasText(properties.databaseUrl())
                ? DatabaseServer.external(properties.databaseUrl(), properties.databaseUser(),
                        properties.databasePassword())
                : DatabaseServer.embedded(properties.dataDir().resolve("postgres"));
    }

    /**
     * The service's pool, shared with the batcher; the service's own tables are migrated here
     * (schema {@code backend}, history {@code backend.backend_schema_history}).
     */
    @Bean(destroyMethod = "close")
    HikariDataSource dataSource(DatabaseServer server, StorageProperties storage) {
        HikariConfig hikari = new HikariConfig();
        hikari.setJdbcUrl(server.jdbcUrl());
        hikari.setUsername(server.user());
        hikari.setPassword(server.password());
        hikari.setMaximumPoolSize(storage.poolSize());
        hikari.setPoolName("agentescrow");
        hikari.setConnectionInitSql(Database.SESSION_INIT_SQL);
        // As the batcher's own pools: a dead or unreachable server fails a connection instead of hanging it.
        hikari.addDataSourceProperty("tcpKeepAlive", "true");
        hikari.addDataSourceProperty("socketTimeout", Integer.toString(Database.SOCKET_TIMEOUT_SECONDS));
        hikari.addDataSourceProperty("connectTimeout", Integer.toString(Database.CONNECT_TIMEOUT_SECONDS));
        HikariDataSource dataSource = new HikariDataSource(hikari);
        try {
            Flyway.configure()
                    .dataSource(dataSource)
                    .locations("classpath:db/backend")
                    .schemas("backend")
                    .defaultSchema("backend")
                    .table("backend_schema_history")
                    .load()
                    .migrate();
        } catch (RuntimeException e) {
            dataSource.close();
            throw e;
        }
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

    /** This instance's id and forwarding address in the leader election, with the election's timings. */
    @Bean
    LeadershipConfig leadershipConfig(ClusterProperties cluster, Environment environment) {
        LeadershipConfig config = LeadershipConfig.defaults()
                .withPollInterval(cluster.pollInterval())
                .withTimings(cluster.heartbeatInterval(), cluster.heartbeatTimeout(), cluster.sessionIdleTimeout());
        if (OperatorKeys.hasText(cluster.instanceId())) {
            config = config.withNodeId(cluster.instanceId().strip());
        }
        Optional<String> advertised = advertisedUrl(cluster, environment);
        return advertised.isPresent() ? config.withAddress(advertised.get()) : config;
    }

    /** {@code ADVERTISED_URL}, else {@code http://<bind address>:<port>} when the port is fixed (not 0). */
    static Optional<String> advertisedUrl(ClusterProperties cluster, Environment environment) {
        if (OperatorKeys.hasText(cluster.advertisedUrl())) {
            String url = cluster.advertisedUrl().strip();
            return Optional.of(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
        }
        int port = environment.getProperty("server.port", Integer.class, 8080);
        if (port <= 0) {
            return Optional.empty();
        }
        String host = environment.getProperty("server.address", "127.0.0.1");
        if (host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                return Optional.empty();
            }
        }
        return Optional.of("http://" + (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host)
                + ":" + port);
    }

    /** The ledger's settings from the service's configuration. */
    @Bean
    LedgerConfig ledgerConfig(DatabaseServer server, StorageProperties storage) {
        LedgerConfig defaults = LedgerConfig.defaults(
                DatabaseConfig.external(server.jdbcUrl(), server.user(), server.password()));
        return new LedgerConfig(defaults.database(), storage.ledgerQueueCapacity(), defaults.maxGroupSize(),
                defaults.maxSubmissionSize(), defaults.maxTimeoutSeconds(), defaults.enqueueTimeout(),
                defaults.advisoryLockKey(), defaults.checkpointEveryGroups(), defaults.checkpointMaxAccounts(),
                storage.ledgerRequestTimeout(), storage.ledgerMaxAccounts(), storage.ledgerMaxOpenHolds(),
                defaults.defaultLimits(), defaults.tokenLimits());
    }

    /**
     * The batcher on the service's pool: the leader election starts at once; on a database nobody
     * leads this instance is elected before this returns, else it stands by (reads work, writes are
     * forwarded to the leader, see {@code cluster.LeaderForwardingFilter}). Closed before the pool.
     */
    @Bean(destroyMethod = "close")
    Batcher batcher(BackendProperties properties, DataSource dataSource, LedgerConfig ledgerConfig,
                    LeadershipConfig leadership, ChainSettings chainSettings, ChainDeployment deployment,
                    SettlementAddresses systemAccounts, Clock clock, MeterRegistry registry) {
        Credentials operator = OperatorKeys.operator(properties);
        BatcherConfig config = BatcherConfig.defaults(ledgerConfig.database(), chainSettings, deployment.vault(),
                        properties.vaultDeploymentBlock(), systemAccounts)
                .withConfirmations(properties.confirmations())
                .withTrigger(properties.transfersPerBatch(), Duration.ofSeconds(properties.batchIntervalSeconds()))
                .withSchedule(new BatcherConfig.Schedule(Duration.ofSeconds(1), Duration.ofSeconds(1),
                        Duration.ofSeconds(1), Duration.ofMinutes(10)));
        return Batcher.start(dataSource, config, ledgerConfig, leadership, operator, clock, registry);
    }
}
