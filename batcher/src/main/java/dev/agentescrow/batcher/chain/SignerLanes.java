package dev.agentescrow.batcher.chain;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The signer lanes of one process, by kind, each on a key no other lane uses: the structural
 * guarantee that one kind's stuck transaction never delays another kind (see {@link SignerLane}).
 * Immutable; {@link #with} returns a copy with one more lane.
 */
public final class SignerLanes {
    private final Map<String, SignerLane> byKind;

    private SignerLanes(Map<String, SignerLane> byKind) {
        this.byKind = Collections.unmodifiableMap(byKind);
    }

    /**
     * The given lanes.
     *
     * @throws IllegalArgumentException if two lanes share a kind or a key
     */
    public static SignerLanes of(SignerLane... lanes) {
        SignerLanes out = new SignerLanes(new LinkedHashMap<>());
        for (SignerLane lane : lanes) {
            out = out.with(lane);
        }
        return out;
    }

    /**
     * These lanes and {@code lane}.
     *
     * @throws IllegalArgumentException if a lane of that kind exists, or another kind signs with
     *     the same key (their nonces would be one sequence, and one kind's stuck transaction
     *     would hold back the other's)
     */
    public SignerLanes with(SignerLane lane) {
        Objects.requireNonNull(lane, "lane");
        if (byKind.containsKey(lane.kind())) {
            throw new IllegalArgumentException("a " + lane.kind() + " lane exists already: " + byKind.get(lane.kind()));
        }
        for (SignerLane other : byKind.values()) {
            if (other.address().equals(lane.address())) {
                throw new IllegalArgumentException("lane " + lane.kind() + " would sign with the key of lane "
                        + other.kind() + " (" + lane.address() + "); every kind needs a key of its own");
            }
        }
        Map<String, SignerLane> next = new LinkedHashMap<>(byKind);
        next.put(lane.kind(), lane);
        return new SignerLanes(next);
    }

    /** The lane of {@code kind}; {@link IllegalArgumentException} if there is none. */
    public SignerLane lane(String kind) {
        SignerLane lane = byKind.get(kind);
        if (lane == null) {
            throw new IllegalArgumentException("no " + kind + " lane; lanes: " + byKind.keySet());
        }
        return lane;
    }

    /** Every lane, in the order added. */
    public List<SignerLane> all() {
        return new ArrayList<>(byKind.values());
    }

    @Override
    public String toString() {
        return "SignerLanes" + byKind.values();
    }
}
