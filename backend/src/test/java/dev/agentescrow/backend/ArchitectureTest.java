package dev.agentescrow.backend;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.web.bind.annotation.RestController;

/**
 * The floors: backend -> batcher -> contracts' gateway, never upwards; no Spring below the
 * backend; the backend reaches the chain only through the gateway (never the generated wrappers);
 * package by feature, each feature's HTTP part in its own {@code web} package.
 */
class ArchitectureTest {
    static final List<String> FEATURES = List.of("auth", "account", "transfer", "withdrawal", "batch", "deposit",
            "token", "faucet", "admin", "audit", "events", "fee");
    private static JavaClasses classes;

    @BeforeAll
    static void load() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.agentescrow");
    }

    @Test
    void the_batcher_and_the_gateway_never_reach_up() {
        noClasses().that().resideInAPackage("dev.agentescrow.batcher..")
                .should().dependOnClassesThat().resideInAPackage("dev.agentescrow.backend..").check(classes);
        noClasses().that().resideInAPackage("dev.agentescrow.chain..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.agentescrow.batcher..", "dev.agentescrow.backend..")
                .check(classes);
    }

    @Test
    void no_spring_in_the_batcher_or_the_gateway() {
        noClasses().that().resideInAnyPackage("dev.agentescrow.batcher..", "dev.agentescrow.chain..")
                .should().dependOnClassesThat().resideInAPackage("org.springframework..").check(classes);
    }

    @Test
    void the_backend_uses_the_gateway_not_the_generated_wrappers() {
        noClasses().that().resideInAPackage("dev.agentescrow.backend..")
                .should().dependOnClassesThat().resideInAPackage("dev.agentescrow.chain.wrappers..").check(classes);
    }

    @Test
    void controllers_live_in_their_features_web_package() {
        classes().that().areAnnotatedWith(RestController.class).should().resideInAPackage("dev.agentescrow.backend.*.web")
                .check(classes);
    }

    @Test
    void a_features_web_package_is_used_by_nothing_else() {
        for (String feature : FEATURES) {
            noClasses().that().resideOutsideOfPackage("dev.agentescrow.backend." + feature + ".web..")
                    .should().dependOnClassesThat().resideInAPackage("dev.agentescrow.backend." + feature + ".web..")
                    .allowEmptyShould(true).check(classes);
        }
    }

    /**
     * Money moves on a client's request only through the agents' command layer, which debits the
     * caller's own account: the client-facing features never build ledger requests themselves, never
     * reach the ledger or the rule-driven service commands.
     */
    @Test
    void client_features_write_only_through_the_agent_command_layer() {
        noClasses().that().resideInAnyPackage("dev.agentescrow.backend.account..", "dev.agentescrow.backend.transfer..",
                        "dev.agentescrow.backend.withdrawal..", "dev.agentescrow.backend.deposit..",
                        "dev.agentescrow.backend.batch..")
                .should().dependOnClassesThat().haveFullyQualifiedName("dev.agentescrow.batcher.ledger.Ledger")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("dev.agentescrow.batcher.ledger.TransferRequest")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("dev.agentescrow.batcher.command.ServiceCommands")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("dev.agentescrow.batcher.runtime.Batcher")
                .check(classes);
        noClasses().that().resideInAPackage("dev.agentescrow.backend..web..")
                .should().dependOnClassesThat().haveFullyQualifiedName("dev.agentescrow.batcher.command.ServiceCommands")
                .check(classes);
    }

    @Test
    void every_feature_has_a_web_package() {
        for (String feature : FEATURES) {
            classes().that().resideInAPackage("dev.agentescrow.backend." + feature + ".web").should()
                    .bePublic().check(classes);
        }
    }
}
