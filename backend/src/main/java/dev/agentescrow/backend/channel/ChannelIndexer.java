package dev.agentescrow.backend.channel;

import dev.agentescrow.backend.chainlog.ChainLog;
import dev.agentescrow.backend.chainlog.ChainLogHandler;
import dev.agentescrow.backend.events.EventPublisher;
import dev.agentescrow.backend.events.EventType;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.channel.ChannelEvent;
import dev.agentescrow.chain.channel.PaymentChannelsGateway;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The PaymentChannels contract's follower (a {@link ChainLogHandler}: the service's contract-log
 * follower calls it on the ledger's leader with the logs of each confirmed block range, in its
 * transaction). Each event is stored once (by its position), the channels it touches are folded
 * again from all their stored events ({@link ChannelFold}), and each new event is published to both
 * participants once (keyed by transaction hash, log index and block hash). A reorganisation deletes the
 * dropped blocks' events, folds the channels they touched again (a channel whose open was undone
 * disappears with its proofs and registrations) and retracts each event published for a log of those
 * blocks ({@code channel.retracted}, once per event); a log mined again in the new chain is published
 * anew. Every channel of the contract is indexed (docs/channels-api.md says why).
 */
@Component
public class ChannelIndexer implements ChainLogHandler {
    private static final Logger log = LoggerFactory.getLogger(ChannelIndexer.class);

    private final ChannelStore store;
    private final EventPublisher events;
    private final PaymentChannelsGateway gateway;
    private final ChannelSettings settings;

    public ChannelIndexer(ChannelStore store, EventPublisher events, PaymentChannelsGateway gateway,
                          ChannelSettings settings) {
        this.store = store;
        this.events = events;
        this.gateway = gateway;
        this.settings = settings;
    }

    @Override
    public String name() {
        return "channels";
    }

    @Override
    public Address contract() {
        return gateway.address();
    }

    @Override
    public long startBlock() {
        return settings.deploymentBlock();
    }

    @Override
    public void apply(List<ChainLog> logs) {
        arrived(logs.stream().map(l -> PaymentChannelsGateway.decode(l.log())).flatMap(Optional::stream).toList());
    }

    @Override
    public void undo(long fromBlock) {
        Set<Bytes32> touched = store.deleteEventsAfter(gateway.address(), fromBlock - 1);
        for (Bytes32 id : touched) {
            refold(id);
        }
        List<ChannelStore.PublishedEvent> retracted = store.publishedFrom(touched, fromBlock);
        for (ChannelStore.PublishedEvent published : retracted) {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("channelId", published.channelId());
            data.put("retractedEventId", published.eventId());
            data.put("retractedType", published.type());
            data.put("txHash", published.txHash());
            data.put("blockNumber", published.blockNumber());
            events.publishOnce("channel-retracted:" + published.eventId(), EventType.CHANNEL_RETRACTED,
                    published.recipients(), published.channelId(), data);
        }
        if (!touched.isEmpty()) {
            log.warn("channel events from block {} on were dropped by a reorganisation; {} channels folded again,"
                    + " {} published events retracted", fromBlock, touched.size(), retracted.size());
        }
    }

    /** Applies confirmed events of the contract, in chain order (a redelivery writes nothing). */
    public void arrived(List<ChannelEvent> arrived) {
        if (arrived.isEmpty()) {
            return;
        }
        Map<Bytes32, Channel> before = new HashMap<>();
        for (ChannelEvent e : arrived) {
            before.computeIfAbsent(e.channelId(), id -> store.find(id).orElse(null));
        }
        Set<Bytes32> touched = store.insertEvents(gateway.address(), arrived);
        Map<Bytes32, Channel> after = new HashMap<>();
        for (Bytes32 id : touched) {
            refold(id).ifPresent(c -> after.put(id, c));
        }
        Map<Bytes32, Channel> running = new HashMap<>(before);
        for (ChannelEvent e : arrived) {
            Channel previous = running.get(e.channelId());
            Channel next = ChannelFold.apply(previous, e);
            running.put(e.channelId(), next);
            Channel channel = after.get(e.channelId());
            if (channel != null) {
                publish(channel, previous, e);
            }
        }
    }

    private Optional<Channel> refold(Bytes32 id) {
        Optional<Channel> folded = ChannelFold.fold(store.events(id));
        if (folded.isPresent()) {
            store.save(folded.get());
        } else {
            store.delete(id);
        }
        return folded;
    }

    private void publish(Channel channel, Channel previous, ChannelEvent e) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("channelId", channel.id().hex());
        EventType type = switch (e) {
            case ChannelEvent.Opened o -> {
                data.put("participantA", o.participantA().checksummed());
                data.put("participantB", o.participantB().checksummed());
                data.put("token", o.token().checksummed());
                data.put("deposit", o.depositA().toString());
                data.put("challengePeriodSeconds", o.challengePeriod().toSeconds());
                yield EventType.CHANNEL_OPENED;
            }
            case ChannelEvent.Accepted a -> {
                data.put("participant", a.participantB().checksummed());
                data.put("deposit", a.depositB().toString());
                yield EventType.CHANNEL_ACCEPTED;
            }
            case ChannelEvent.Deposited d -> {
                data.put("participant", d.participant().checksummed());
                data.put("amount", d.amount().toString());
                data.put("totalDeposit", d.totalDeposit().toString());
                yield EventType.CHANNEL_DEPOSITED;
            }
            case ChannelEvent.Withdrawn w -> {
                data.put("participant", w.participant().checksummed());
                data.put("amount", w.amount().toString());
                data.put("totalWithdrawn", w.totalWithdrawn().toString());
                yield EventType.CHANNEL_WITHDRAWN;
            }
            case ChannelEvent.Closed c -> {
                data.put("closer", c.closer().checksummed());
                data.put("nonce", c.nonce().toString());
                data.put("transferred", c.transferred().toString());
                data.put("closesAt", c.closesAt().toString());
                yield EventType.CHANNEL_CLOSED;
            }
            case ChannelEvent.BalanceProofUpdated u -> {
                data.put("participant", u.participant().checksummed());
                data.put("submitter", u.submitter().checksummed());
                data.put("nonce", u.nonce().toString());
                data.put("transferred", u.transferred().toString());
                yield EventType.CHANNEL_CHALLENGED;
            }
            case ChannelEvent.Settled s -> {
                data.put("payoutA", s.payoutA().toString());
                data.put("payoutB", s.payoutB().toString());
                data.put("cooperative", s.cooperative());
                yield EventType.CHANNEL_SETTLED;
            }
            case ChannelEvent.PayoutRefused r -> {
                data.put("participant", r.participant().checksummed());
                data.put("amount", r.amount().toString());
                yield EventType.CHANNEL_PAYOUT_REFUSED;
            }
            case ChannelEvent.PaidOut p -> {
                if (!ChannelFold.isClaim(previous, p)) {
                    yield null;
                }
                data.put("participant", p.participant().checksummed());
                data.put("to", p.to().checksummed());
                data.put("amount", p.amount().toString());
                yield EventType.CHANNEL_CLAIMED;
            }
        };
        if (type == null) {
            return;
        }
        data.put("txHash", e.position().txHash().value());
        data.put("blockNumber", e.position().blockNumber());
        List<Address> recipients = List.of(channel.a(), channel.b());
        // Keyed by the block too: a log mined again in another block after a reorganisation (whose first
        // event was retracted) is a new event.
        events.publishOnce("channel:" + e.position().txHash().value() + ":" + e.position().logIndex() + ":"
                + e.position().blockHash().hex(), type, recipients, channel.id().hex(), data);
    }
}
