package dev.agentescrow.backend.fee;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * A period's report: the fees it collected by type, token and source (with the number of charges),
 * its totals per token and type (collected, carried in, distributed, carried out), and what each
 * stakeholder received; as data (JSON) and as CSV ({@link #csv}).
 */
@Component
public class FeeReports {
    private final JdbcTemplate jdbc;
    private final FeeDistributions distributions;
    private final Stakeholders stakeholders;

    public FeeReports(JdbcTemplate jdbc, FeeDistributions distributions, Stakeholders stakeholders) {
        this.jdbc = jdbc;
        this.distributions = distributions;
        this.stakeholders = stakeholders;
    }

    /** Fees of one type, token and source collected in the period. */
    public record Collected(FeeType type, Address token, FeeSource source, BigInteger amount, long charges) {
    }

    /** What one stakeholder received from the period in one token and fee type. */
    public record Received(String stakeholderId, String name, Address account, long shares, Address token,
                          FeeType type, BigInteger amount, Long ledgerSeq) {
    }

    public record Report(FeePeriod period, List<Collected> collected, List<FeeDistributions.Total> totals,
                         List<Received> received) {
    }

    public Optional<Report> report(long number) {
        return distributions.period(number).map(period -> new Report(period, collected(number),
                distributions.totals(number), distributions.payments(number).stream().map(p -> new Received(
                        p.stakeholderId(), stakeholders.find(p.stakeholderId()).map(Stakeholder::name).orElse(""),
                        p.account(), p.shares(), p.token(), p.type(), p.amount(), p.ledgerSeq())).toList()));
    }

    private List<Collected> collected(long number) {
        return jdbc.query("SELECT fee_type, token, source, sum(amount), count(*) FROM backend.fee_charges"
                + " WHERE period = ? GROUP BY fee_type, token, source ORDER BY fee_type, token, source", (rs, n) ->
                new Collected(FeeType.valueOf(rs.getString(1)), Address.of(rs.getString(2)),
                        FeeSource.valueOf(rs.getString(3)), rs.getBigDecimal(4).toBigIntegerExact(), rs.getLong(5)),
                number);
    }

    /** The CSV header of {@link #csv}. */
    public static final String CSV_HEADER = "period,section,fee_type,token,source,stakeholder_id,stakeholder_name,"
            + "account,shares,amount,charges,carried_in,carried_out";

    /**
     * The report as CSV (RFC 4180, one header line): a {@code collected} row per type, token and
     * source; a {@code total} row per token and type (amount = collected; distributed in
     * {@code amount} of the {@code distributed} row); a {@code received} row per stakeholder, token
     * and type. Amounts in base units.
     */
    public static String csv(Report report) {
        StringBuilder out = new StringBuilder(CSV_HEADER).append("\r\n");
        long n = report.period().number();
        for (Collected c : report.collected()) {
            row(out, n, "collected", c.type().name(), c.token().checksummed(), c.source().name(), "", "", "", "",
                    c.amount().toString(), Long.toString(c.charges()), "", "");
        }
        for (FeeDistributions.Total t : report.totals()) {
            row(out, n, "distributed", t.type().name(), t.token().checksummed(), "", "", "", "", "",
                    t.distributed().toString(), "", t.carriedIn().toString(), t.carriedOut().toString());
        }
        for (Received r : report.received()) {
            row(out, n, "received", r.type().name(), r.token().checksummed(), "", r.stakeholderId(), r.name(),
                    r.account().checksummed(), Long.toString(r.shares()), r.amount().toString(), "", "", "");
        }
        return out.toString();
    }

    private static void row(StringBuilder out, long period, String... fields) {
        out.append(period);
        for (String f : fields) {
            out.append(',').append(escape(f));
        }
        out.append("\r\n");
    }

    private static String escape(String field) {
        if (field.indexOf(',') < 0 && field.indexOf('"') < 0 && field.indexOf('\n') < 0 && field.indexOf('\r') < 0) {
            return field;
        }
        return '"' + field.replace("\"", "\"\"") + '"';
    }
}
