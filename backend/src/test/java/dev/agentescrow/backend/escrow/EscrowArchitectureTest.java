package dev.agentescrow.backend.escrow;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import dev.agentescrow.batcher.command.ServiceCommands;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The batcher's service commands (which may debit an escrow's account or FEES) are reached only
 * from the escrow rules' adapter and the fee distribution, never from an HTTP part; and the escrow
 * feature's web part is used by nothing else.
 */
class EscrowArchitectureTest {
    private static JavaClasses classes;

    @BeforeAll
    static void load() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.agentescrow.backend");
    }

    @Test
    void no_controller_reaches_the_service_commands() {
        noClasses().that().resideInAPackage("dev.agentescrow.backend..web..")
                .should().dependOnClassesThat().areAssignableTo(ServiceCommands.class).check(classes);
        noClasses().that().resideOutsideOfPackages("dev.agentescrow.backend.escrow", "dev.agentescrow.backend.fee")
                .and().resideInAPackage("dev.agentescrow.backend..")
                .should().dependOnClassesThat().areAssignableTo(ServiceCommands.class).allowEmptyShould(true).check(classes);
    }

    @Test
    void the_escrow_web_part_is_used_by_nothing_else() {
        noClasses().that().resideOutsideOfPackage("dev.agentescrow.backend.escrow.web..")
                .should().dependOnClassesThat().resideInAPackage("dev.agentescrow.backend.escrow.web..").check(classes);
    }
}
