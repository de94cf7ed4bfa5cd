package dev.agentescrow.chain;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.web3j.abi.EventEncoder;
import org.web3j.abi.datatypes.Event;
import org.web3j.protocol.core.methods.response.Log;

class EventDecoderTest {
    private static final Event PING = new Event("Ping", List.of());
    private static final Event PONG = new Event("Pong", List.of());
    private static final Event OTHER = new Event("Other", List.of());

    private static Log log(String... topics) {
        Log log = new Log();
        log.setTopics(List.of(topics));
        return log;
    }

    @Test
    void decodesKnownEventsInLogOrderAndSkipsTheRest() {
        EventDecoder<String> decoder = EventDecoder.of(Map.of(PING, log -> "ping", PONG, log -> "pong"));

        List<String> events = decoder.decode(List.of(log(EventEncoder.encode(PONG)), log(),
                log(EventEncoder.encode(OTHER)), log(EventEncoder.encode(PING)), log(EventEncoder.encode(PONG))));

        assertThat(events).containsExactly("pong", "ping", "pong");
    }
}
