package dev.agentescrow.backend.market;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A provider's reputation from its scored outcomes (docs/marketplace.md#reputation), in integer
 * basis points. Pure: the caller passes the outcomes and the time.
 *
 * <ul>
 * <li><b>Value</b> of an outcome: {@code min(10,000, quality * 50)} (quality 100 = 5,000, 200 = 10,000),
 *     halved when it was delivered late.</li>
 * <li><b>Decay</b>: an outcome's weight halves every {@link #HALF_LIFE} of age, linearly between
 *     halvings: with {@code k = age / H} and {@code f = age mod H},
 *     {@code decay = (10,000 >> k) - ((10,000 >> k) - (10,000 >> (k+1))) * f / H}; zero after 13 half-lives.</li>
 * <li><b>Counterparty weight</b>: what a consumer's score adds is weighted by its own breadth, the
 *     number of distinct <i>other</i> providers it scored: {@code max(500, 1,000 * min(breadth, 10))}
 *     bps. A ring of fresh addresses that only score this provider weighs 5 % each.</li>
 * <li><b>Self-trading</b> does not count: an outcome whose consumer is the provider is skipped
 *     (the service refuses such requests already).</li>
 * <li>{@code weight = decay * counterparty / 10,000}; the reputation is the weighted mean value
 *     {@code sum(weight * value) / sum(weight)} (floor), the confidence
 *     {@code min(10,000, sum(weight) / 10)} (ten fresh outcomes from broad consumers make it full),
 *     and the bonus of performance pay {@code floor(reputation * confidence * 1,000 / 10^8)}: 0 to 1,000 bps.</li>
 * </ul>
 *
 * Known limits: breadth is counted, not weighted by the breadth of those other providers' own
 * consumers, so a ring whose members also buy from ten other providers each gets full weight; the
 * cost of that is real payments (and fees) to those providers. Outcomes are the provider's most
 * recent {@link #MAX_OUTCOMES}.
 */
public final class Reputation {
    public static final int BPS = 10_000;
    public static final Duration HALF_LIFE = Duration.ofDays(30);
    public static final int MIN_COUNTERPARTY_BPS = 500;
    public static final int FULL_BREADTH = 10;
    public static final int MAX_OUTCOMES = 500;

    private Reputation() {
    }

    /**
     * One scored outcome of the provider.
     *
     * @param consumerBreadth distinct providers other than this one the consumer has scored
     */
    public record Outcome(String consumer, Instant scoredAt, int quality, boolean late, long consumerBreadth) {
        public Outcome {
            Objects.requireNonNull(consumer, "consumer");
            Objects.requireNonNull(scoredAt, "scoredAt");
        }
    }

    /** The result: reputation, confidence and bonus in bps, and the outcomes counted. */
    public record Score(int reputationBps, int confidenceBps, int bonusBps, int counted) {
        public static final Score NONE = new Score(0, 0, 0, 0);
    }

    public static int value(Outcome o) {
        int v = Math.min(BPS, Math.max(0, o.quality()) * 50);
        return o.late() ? v / 2 : v;
    }

    public static long decayBps(Duration age) {
        long h = HALF_LIFE.toSeconds();
        long a = Math.max(0, age.toSeconds());
        long k = a / h;
        if (k >= 13) {
            return 0;
        }
        long f = a % h;
        long hi = BPS >> k;
        long lo = BPS >> (k + 1);
        return hi - (hi - lo) * f / h;
    }

    public static long counterpartyBps(long breadth) {
        return Math.max(MIN_COUNTERPARTY_BPS, 1_000L * Math.min(Math.max(0, breadth), FULL_BREADTH));
    }

    /** The reputation of {@code provider} at {@code now} from its outcomes. */
    public static Score of(String provider, List<Outcome> outcomes, Instant now) {
        long weights = 0;
        long weighted = 0;
        int counted = 0;
        for (Outcome o : outcomes.subList(0, Math.min(outcomes.size(), MAX_OUTCOMES))) {
            if (o.consumer().equalsIgnoreCase(provider)) {
                continue;
            }
            long w = decayBps(Duration.between(o.scoredAt(), now)) * counterpartyBps(o.consumerBreadth()) / BPS;
            weights += w;
            weighted += w * value(o);
            counted++;
        }
        if (weights == 0) {
            return new Score(0, 0, 0, counted);
        }
        int reputation = (int) (weighted / weights);
        int confidence = (int) Math.min(BPS, weights / 10);
        int bonus = (int) ((long) reputation * confidence * 1_000 / ((long) BPS * BPS));
        return new Score(reputation, confidence, bonus, counted);
    }
}
