package dev.agentescrow.batcher.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import javax.sql.DataSource;

/** Creates fresh databases on the JVM's embedded PostgreSQL. */
public interface TestDatabases {
    /** A new, empty database. */
    DataSource create();

    EmbeddedPostgres server();
}
