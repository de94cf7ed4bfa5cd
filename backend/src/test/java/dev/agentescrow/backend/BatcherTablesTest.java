package dev.agentescrow.backend;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The service reads the batcher only through its read API: no main source of the backend names a
 * table of the batcher's schema ({@code public.<table>}); its own SQL stays in schema {@code backend}.
 */
class BatcherTablesTest {
    private static final Pattern PUBLIC_TABLE = Pattern.compile("\\bpublic\\.[a-z_][a-z0-9_]*");

    @Test
    void no_backend_main_source_names_a_table_of_the_batchers_schema() throws IOException {
        Path sources = Path.of("src/main/java");
        assertThat(sources).isDirectory();
        try (Stream<Path> files = Files.walk(sources)) {
            List<String> offenders = files.filter(file -> file.toString().endsWith(".java"))
                    .flatMap(file -> matches(file).stream()).toList();
            assertThat(offenders).isEmpty();
        }
    }

    private static List<String> matches(Path file) {
        try {
            Matcher matcher = PUBLIC_TABLE.matcher(Files.readString(file));
            return matcher.results().map(match -> file + ": " + match.group()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
