package dev.agentescrow.backend.fee.web;

import dev.agentescrow.backend.common.web.ApiException;
import dev.agentescrow.backend.common.web.Inputs;
import dev.agentescrow.backend.common.web.Paging;
import dev.agentescrow.backend.common.web.Principals;
import dev.agentescrow.backend.fee.FeeDistributions;
import dev.agentescrow.backend.fee.FeePeriod;
import dev.agentescrow.backend.fee.FeeRates;
import dev.agentescrow.backend.fee.FeeRefusal;
import dev.agentescrow.backend.fee.FeeReports;
import dev.agentescrow.backend.fee.Fees;
import dev.agentescrow.backend.fee.Stakeholder;
import dev.agentescrow.backend.fee.Stakeholders;
import dev.agentescrow.chain.Address;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.List;
import java.util.regex.Pattern;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Fees: the rates in force (anyone signed in), and for admins (under {@code /api/v1/admin}, the
 * admin role) the rates, the stakeholders, distributions on demand and the period reports (JSON, or
 * CSV with {@code Accept: text/csv} or {@code format=csv}). Every POST needs an Idempotency-Key.
 */
@RestController
@Tag(name = "fees", description = "Platform and protocol fees, stakeholders, distributions per period and their reports")
public class FeeController {
    static final String TEXT_CSV = "text/csv";
    private static final Pattern STAKEHOLDER_ID = Pattern.compile("sth_[0-9a-f]{32}");
    private static final int MAX_NAME = 100;

    private final Fees fees;
    private final Stakeholders stakeholders;
    private final FeeDistributions distributions;
    private final FeeReports reports;

    public FeeController(Fees fees, Stakeholders stakeholders, FeeDistributions distributions, FeeReports reports) {
        this.fees = fees;
        this.stakeholders = stakeholders;
        this.distributions = distributions;
        this.reports = reports;
    }

    public record RatesOrder(Integer platformBps, Integer protocolBps) {
    }

    public record StakeholderOrder(String account, String name, Long shares) {
    }

    public record StakeholderChange(String name, Long shares) {
    }

    public record NoArguments() {
    }

    @GetMapping("/api/v1/fees")
    @Operation(summary = "The fees in force for new escrows and payouts: platform and protocol (bps, each floored on its"
            + " own, taken from payees' gross payouts); a create's maxFeeBps must cover both")
    public FeeViews.RatesView rates() {
        Principals.current();
        return FeeViews.RatesView.of(fees.rates(), fees.ratesSetByAdmin());
    }

    @PutMapping("/api/v1/admin/fees/rates")
    @Operation(summary = "Sets the fees for escrows created from now on (existing escrows keep theirs); audited")
    @ApiResponse(responseCode = "400", description = "VALIDATION_FAILED (each fee 0..1000 bps)")
    @ApiResponse(responseCode = "403", description = "FORBIDDEN")
    public FeeViews.RatesView setRates(@RequestBody RatesOrder order) {
        Address admin = Principals.current();
        Inputs inputs = Inputs.check();
        int platform = bps(inputs, "platformBps", order.platformBps());
        int protocol = bps(inputs, "protocolBps", order.protocolBps());
        inputs.orThrow();
        return FeeViews.RatesView.of(fees.setRates(new FeeRates(platform, protocol), admin.hex()), true);
    }

    @DeleteMapping("/api/v1/admin/fees/rates")
    @Operation(summary = "Returns to the configured fees (agentescrow.fees.*) for escrows created from now on; audited")
    @ApiResponse(responseCode = "403", description = "FORBIDDEN")
    public FeeViews.RatesView resetRates() {
        return FeeViews.RatesView.of(fees.resetRates(Principals.current().hex()), false);
    }

    @GetMapping("/api/v1/admin/fees/stakeholders")
    @Operation(summary = "Every stakeholder, active and removed, newest first")
    @ApiResponse(responseCode = "403", description = "FORBIDDEN")
    public FeeViews.StakeholderList listStakeholders() {
        Principals.current();
        return new FeeViews.StakeholderList(stakeholders.all(500).stream().map(FeeViews.StakeholderView::of).toList());
    }

    @PostMapping("/api/v1/admin/fees/stakeholders")
    @Operation(summary = "Adds a stakeholder (its ledger account and relative shares); the id derives from the"
            + " Idempotency-Key; audited")
    @ApiResponse(responseCode = "201", description = "added")
    @ApiResponse(responseCode = "400", description = "VALIDATION_FAILED (account INVALID_ADDRESS, name REQUIRED/INVALID,"
            + " shares OUT_OF_RANGE), IDEMPOTENCY_KEY_MISSING")
    @ApiResponse(responseCode = "403", description = "FORBIDDEN")
    @ApiResponse(responseCode = "409", description = "FEE_STAKEHOLDER_EXISTS, IDEMPOTENCY_REQUEST_IN_FLIGHT")
    @ApiResponse(responseCode = "422", description = "FEE_TOO_MANY_STAKEHOLDERS, FEE_STAKEHOLDER_ID_CONFLICT,"
            + " IDEMPOTENCY_KEY_REUSED")
    public ResponseEntity<FeeViews.StakeholderView> addStakeholder(
            @Parameter(description = "IETF Idempotency-Key; the stakeholder's id derives from it")
            @RequestHeader("Idempotency-Key") String idempotencyKey, @RequestBody StakeholderOrder order) {
        Address admin = Principals.current();
        Inputs inputs = Inputs.check();
        Address account = inputs.address("account", order.account());
        String name = name(inputs, order.name(), true);
        long shares = shares(inputs, order.shares(), true);
        inputs.orThrow();
        Stakeholders.Result result = stakeholders.add(admin.hex(), idempotencyKey, account, name, shares);
        return ResponseEntity.status(HttpStatus.CREATED).body(FeeViews.StakeholderView.of(accepted(result)));
    }

    @PatchMapping("/api/v1/admin/fees/stakeholders/{id}")
    @Operation(summary = "Changes a stakeholder's name and/or shares (for distributions planned from now on); audited")
    @ApiResponse(responseCode = "400", description = "VALIDATION_FAILED")
    @ApiResponse(responseCode = "403", description = "FORBIDDEN")
    @ApiResponse(responseCode = "404", description = "NOT_FOUND")
    @ApiResponse(responseCode = "409", description = "FEE_STAKEHOLDER_REMOVED")
    public FeeViews.StakeholderView changeStakeholder(@PathVariable String id, @RequestBody StakeholderChange change) {
        Address admin = Principals.current();
        Inputs inputs = Inputs.check();
        String name = name(inputs, change.name(), false);
        long shares = shares(inputs, change.shares(), false);
        if (change.name() == null && change.shares() == null) {
            inputs.error("shares", "REQUIRED", "name or shares");
        }
        inputs.orThrow();
        Stakeholders.Result result = stakeholders.update(admin.hex(), checkId(id), name,
                change.shares() == null ? null : shares).orElseThrow(() -> ApiException.notFound("stakeholder"));
        return FeeViews.StakeholderView.of(accepted(result));
    }

    @DeleteMapping("/api/v1/admin/fees/stakeholders/{id}")
    @Operation(summary = "Removes a stakeholder from distributions planned from now on (its past payments stay); audited")
    @ApiResponse(responseCode = "403", description = "FORBIDDEN")
    @ApiResponse(responseCode = "404", description = "NOT_FOUND")
    public FeeViews.StakeholderView removeStakeholder(@PathVariable String id) {
        Address admin = Principals.current();
        return stakeholders.remove(admin.hex(), checkId(id)).map(FeeViews.StakeholderView::of)
                .orElseThrow(() -> ApiException.notFound("stakeholder"));
    }

    @PostMapping("/api/v1/admin/fees/distributions")
    @Operation(summary = "Distributes now: the fees collected since the last period (plus the carried remainder) go to"
            + " the active stakeholders by share, as ledger transfers, exactly once per period; a period planned but"
            + " not yet paid is finished (and answered) first")
    @ApiResponse(responseCode = "201", description = "the period distributed, with its report")
    @ApiResponse(responseCode = "400", description = "IDEMPOTENCY_KEY_MISSING")
    @ApiResponse(responseCode = "403", description = "FORBIDDEN")
    @ApiResponse(responseCode = "409", description = "IDEMPOTENCY_REQUEST_IN_FLIGHT")
    @ApiResponse(responseCode = "422", description = "FEE_NO_STAKEHOLDERS, FEE_NOTHING_TO_DISTRIBUTE, IDEMPOTENCY_KEY_REUSED")
    @ApiResponse(responseCode = "503", description = "LEDGER_UNAVAILABLE")
    public ResponseEntity<FeeViews.ReportView> distribute(
            @Parameter(description = "IETF Idempotency-Key") @RequestHeader("Idempotency-Key") String idempotencyKey,
            @RequestBody(required = false) NoArguments body) {
        Address admin = Principals.current();
        FeeDistributions.Outcome outcome = distributions.distribute(FeePeriod.Trigger.ADMIN, admin.hex());
        if (!outcome.ok()) {
            throw refused(outcome.refusal());
        }
        FeeReports.Report report = reports.report(outcome.period().number()).orElseThrow();
        return ResponseEntity.status(HttpStatus.CREATED).body(FeeViews.ReportView.of(report));
    }

    @GetMapping("/api/v1/admin/fees/periods")
    @Operation(summary = "The distribution periods, newest first (keyset pages)")
    @ApiResponse(responseCode = "400", description = "INVALID_CURSOR, VALIDATION_FAILED")
    @ApiResponse(responseCode = "403", description = "FORBIDDEN")
    public FeeViews.PeriodPage periods(@RequestParam(required = false) String cursor,
                                       @RequestParam(required = false) Integer limit) {
        Principals.current();
        long before = Paging.before(cursor);
        int n = Paging.limit(limit);
        List<FeePeriod> page = distributions.periods(before, n + 1);
        String next = page.size() > n ? Long.toString(page.get(n - 1).number()) : null;
        return new FeeViews.PeriodPage(page.stream().limit(n).map(FeeViews.PeriodView::of).toList(), next);
    }

    @GetMapping("/api/v1/admin/fees/periods/{number}")
    @Operation(summary = "A period's report: fees collected by type (PLATFORM, PROTOCOL), token and source (ESCROW,"
            + " REQUEST, TASK, WORKFLOW, CHAIN_SWEEP), totals with the carried remainder, and what each stakeholder"
            + " received; CSV with Accept: text/csv or format=csv")
    @ApiResponse(responseCode = "200", description = "the report", content = {
            @Content(mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(implementation = FeeViews.ReportView.class)),
            @Content(mediaType = TEXT_CSV, schema = @Schema(type = "string"))})
    @ApiResponse(responseCode = "400", description = "VALIDATION_FAILED (number, format)")
    @ApiResponse(responseCode = "403", description = "FORBIDDEN")
    @ApiResponse(responseCode = "404", description = "NOT_FOUND")
    public ResponseEntity<?> report(@PathVariable String number, @RequestParam(required = false) String format,
                                    @RequestHeader(value = "Accept", required = false) String accept) {
        Principals.current();
        Inputs inputs = Inputs.check();
        long n = 0;
        if (number == null || !number.matches("[1-9][0-9]{0,17}")) {
            inputs.error("number", "INVALID", "a period number (1, 2, ...)");
        } else {
            n = Long.parseLong(number);
        }
        if (format != null && !format.equals("csv") && !format.equals("json")) {
            inputs.error("format", "INVALID", "csv or json");
        }
        inputs.orThrow();
        FeeReports.Report report = reports.report(n).orElseThrow(() -> ApiException.notFound("period"));
        boolean csv = "csv".equals(format) || (format == null && accept != null && accept.contains(TEXT_CSV)
                && !accept.contains(MediaType.APPLICATION_JSON_VALUE));
        if (csv) {
            return ResponseEntity.ok().contentType(MediaType.parseMediaType(TEXT_CSV + ";charset=UTF-8"))
                    .header("Content-Disposition", "attachment; filename=\"fees-period-" + n + ".csv\"")
                    .body(FeeReports.csv(report));
        }
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(FeeViews.ReportView.of(report));
    }

    private static Stakeholder accepted(Stakeholders.Result result) {
        if (!result.ok()) {
            throw refused(result.refusal());
        }
        return result.stakeholder();
    }

    private static ApiException refused(FeeRefusal refusal) {
        return new ApiException(HttpStatus.valueOf(refusal.status()), refusal.code(), refusal.message());
    }

    private static int bps(Inputs inputs, String field, Integer value) {
        if (value == null) {
            inputs.error(field, "REQUIRED", "required");
            return 0;
        }
        if (value < 0 || value > FeeRates.MAX_BPS) {
            inputs.error(field, "OUT_OF_RANGE", "0.." + FeeRates.MAX_BPS + " bps");
            return 0;
        }
        return value;
    }

    private static String name(Inputs inputs, String name, boolean required) {
        if (name == null) {
            if (required) {
                inputs.error("name", "REQUIRED", "required");
            }
            return null;
        }
        if (name.isBlank() || name.length() > MAX_NAME || !name.chars().allMatch(c -> c >= 0x20 && c != 0x7f)
                || "=+-@".indexOf(name.charAt(0)) >= 0) {
            inputs.error("name", "INVALID", "1-" + MAX_NAME + " printable characters, not starting with = + - @");
            return null;
        }
        return name;
    }

    private static long shares(Inputs inputs, Long shares, boolean required) {
        if (shares == null) {
            if (required) {
                inputs.error("shares", "REQUIRED", "required");
            }
            return 0;
        }
        if (shares < 1 || shares > Stakeholder.MAX_SHARES) {
            inputs.error("shares", "OUT_OF_RANGE", "1.." + Stakeholder.MAX_SHARES);
            return 0;
        }
        return shares;
    }

    private static String checkId(String id) {
        if (id == null || !STAKEHOLDER_ID.matcher(id).matches()) {
            throw ApiException.notFound("stakeholder");
        }
        return id;
    }
}
