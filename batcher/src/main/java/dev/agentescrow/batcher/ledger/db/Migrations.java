package dev.agentescrow.batcher.ledger.db;

import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/** Applies the Flyway migrations under {@code classpath:db/migration}. */
public final class Migrations {
    private Migrations() {
    }

    public static void migrate(DataSource dataSource) {
        Flyway.configure()
                .dataSource(dataSource)
                .locations("classpath:db/migration")
                .load()
                .migrate();
    }
}
