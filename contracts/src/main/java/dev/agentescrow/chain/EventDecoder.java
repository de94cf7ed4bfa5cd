package dev.agentescrow.chain;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.web3j.abi.EventEncoder;
import org.web3j.abi.datatypes.Event;
import org.web3j.protocol.core.methods.response.Log;

/**
 * Turns a contract's logs into a gateway's typed events, choosing the decoder by the log's first
 * topic (the event signature). Logs of events without a decoder, and anonymous logs, are skipped.
 *
 * @param <E> the gateway's event type, e.g. a sealed interface of records
 */
public final class EventDecoder<E> {
    private final Map<String, Function<Log, E>> bySignature;

    private EventDecoder(Map<String, Function<Log, E>> bySignature) {
        this.bySignature = Map.copyOf(bySignature);
    }

    /** A decoder for each event; each function typically calls the wrapper's {@code get...EventFromLog}. */
    public static <E> EventDecoder<E> of(Map<Event, Function<Log, E>> decoders) {
        Map<String, Function<Log, E>> bySignature = new HashMap<>();
        decoders.forEach((event, decoder) -> bySignature.put(EventEncoder.encode(event), decoder));
        return new EventDecoder<>(bySignature);
    }

    /** The events of {@code logs} this decoder knows, in the order of {@code logs}. */
    public List<E> decode(List<Log> logs) {
        List<E> events = new ArrayList<>();
        for (Log log : logs) {
            Function<Log, E> decoder = log.getTopics().isEmpty() ? null : bySignature.get(log.getTopics().getFirst());
            if (decoder != null) {
                events.add(decoder.apply(log));
            }
        }
        return List.copyOf(events);
    }
}
