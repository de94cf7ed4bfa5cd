package dev.agentescrow.backend.channel.web;

import dev.agentescrow.backend.channel.Channel;
import dev.agentescrow.backend.channel.ChannelCalls;
import dev.agentescrow.backend.channel.ChannelStore;
import dev.agentescrow.backend.channel.Channels;
import dev.agentescrow.backend.common.web.ApiException;
import dev.agentescrow.backend.common.web.Inputs;
import dev.agentescrow.backend.common.web.Principals;
import dev.agentescrow.backend.gateway.ChainGateway;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.channel.ChannelDomain;
import dev.agentescrow.chain.channel.ChannelSignature;
import dev.agentescrow.chain.channel.ChannelState;
import dev.agentescrow.chain.channel.ChannelTypedData;
import dev.agentescrow.chain.channel.CooperativeClose;
import dev.agentescrow.chain.channel.PaymentChannelsGateway;
import dev.agentescrow.chain.channel.Withdrawal;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Prepared calls of the PaymentChannels contract: the EIP-712 data each agent signs and the call
 * data it sends from its own account (the service never holds an agent's key). A call that needs
 * signatures answers the typed data first; sent again with the signatures (checked against the
 * channel's keys here, as the contract checks them) it answers the call data. Nothing changes
 * state, so the Idempotency-Key is optional.
 */
@RestController
@RequestMapping("/api/v1/channels")
@Tag(name = "channels")
public class ChannelCallController {
    private static final Pattern SIGNATURE = Pattern.compile("0x[0-9a-fA-F]{130}");
    private static final Duration PERMIT_VALIDITY = Duration.ofHours(1);
    private static final Duration AUTHORIZATION_VALIDITY = Duration.ofHours(1);
    static final String CONFLICT = "CHANNEL_INVALID_STATE, CHANNEL_NOTHING_TO_CLAIM";
    static final String UNPROCESSABLE = "CHANNEL_SIGNATURE_INVALID, CHANNEL_NOT_PARTICIPANT_ROLE,"
            + " CHANNEL_COOPERATIVE_CLOSE_MISMATCH, CHANNEL_WITHDRAWAL_EXCEEDS_FUNDS, UNKNOWN_TOKEN";

    private final Channels channels;
    private final PaymentChannelsGateway gateway;
    private final ChainGateway chain;
    private final Clock clock;

    public ChannelCallController(Channels channels, PaymentChannelsGateway gateway, ChainGateway chain, Clock clock) {
        this.channels = channels;
        this.gateway = gateway;
        this.chain = chain;
        this.clock = clock;
    }

    /** EIP-712 data as ethers' {@code signTypedData(domain, types, message)} takes it. */
    public record TypedData(Map<String, Object> domain, Map<String, List<Map<String, String>>> types,
                            String primaryType, Map<String, String> message) {
    }

    /** A call to send first (the token's approve), then the call itself. */
    public record Approve(String to, String function, String calldata) {
    }

    /**
     * A prepared call: send {@code calldata} to {@code to} from the {@code sender} account; when
     * {@code calldata} is null, sign {@code typedData} with each key in {@code signers} and ask again
     * with the signatures.
     */
    public record PreparedCall(String action, String channelId, String to, String function, Map<String, String> args,
                               String calldata, TypedData typedData, List<String> signers, String sender,
                               Approve approve) {
    }

    public record OpenOrder(String counterparty, String token, String deposit, Long challengePeriodSeconds,
                            String permitDeadline, String permitSignature) {
    }

    public record AmountOrder(String amount) {
    }

    public record WithdrawOrder(String participant, String totalWithdrawn, String expiry, String signatureA,
                                String signatureB) {
    }

    public record CooperativeCloseOrder(String totalWithdrawnA, String totalWithdrawnB, String expiry,
                                        String signatureA, String signatureB) {
    }

    public record ClaimOrder(String to) {
    }

    public record NoArguments() {
    }

    @PostMapping("/calls/open")
    @Operation(summary = "openWithPermit: the EIP-2612 permit to sign, then (with permitSignature) the call data;"
            + " a deposit of 0 answers open() at once")
    @ApiResponse(responseCode = "422", description = UNPROCESSABLE)
    public PreparedCall open(@RequestHeader(value = "Idempotency-Key", required = false) String key,
                             @RequestBody OpenOrder order) {
        Address me = Principals.current();
        Inputs inputs = Inputs.check();
        Address counterparty = inputs.address("counterparty", order.counterparty());
        Address token = inputs.address("token", order.token());
        BigInteger deposit = ChannelController.uint(inputs, "deposit", order.deposit());
        long minimum = gateway.minChallengePeriod().toSeconds();
        long period = order.challengePeriodSeconds() == null ? minimum : order.challengePeriodSeconds();
        if (period < minimum || period > Duration.ofDays(30).toSeconds()) {
            inputs.error("challengePeriodSeconds", "OUT_OF_RANGE", minimum + " to " + Duration.ofDays(30).toSeconds());
        }
        if (counterparty != null && counterparty.equals(me)) {
            inputs.error("counterparty", "SAME_ACCOUNT", "a channel needs another participant");
        }
        BigInteger deadline = order.permitDeadline() == null
                ? BigInteger.valueOf(clock.instant().plus(PERMIT_VALIDITY).getEpochSecond())
                : ChannelController.uint(inputs, "permitDeadline", order.permitDeadline());
        ChannelSignature permit = signature(inputs, "permitSignature", order.permitSignature());
        inputs.orThrow();
        Bytes32 next = gateway.nextChannelId(me, counterparty, token);
        Map<String, String> args = new LinkedHashMap<>();
        args.put("participantB", counterparty.checksummed());
        args.put("token", token.checksummed());
        args.put("signingKeyA", Address.ZERO.checksummed());
        args.put("depositA", deposit.toString());
        args.put("challengePeriod", Long.toString(period));
        if (deposit.signum() == 0) {
            return new PreparedCall("open", next.hex(), gateway.address().checksummed(), ChannelCalls.OPEN, args,
                    ChannelCalls.open(counterparty, token, deposit, period), null, List.of(), me.checksummed(), null);
        }
        args.put("deadline", deadline.toString());
        if (permit == null) {
            ChainGateway.PermitDomain domain = chain.permitDomain(token);
            Map<String, String> message = new LinkedHashMap<>();
            message.put("owner", me.checksummed());
            message.put("spender", gateway.address().checksummed());
            message.put("value", deposit.toString());
            message.put("nonce", chain.permitNonce(token, me).toString());
            message.put("deadline", deadline.toString());
            List<Map<String, String>> type = List.of(field("owner", "address"), field("spender", "address"),
                    field("value", "uint256"), field("nonce", "uint256"), field("deadline", "uint256"));
            return new PreparedCall("open", next.hex(), gateway.address().checksummed(), ChannelCalls.OPEN_WITH_PERMIT,
                    args, null, new TypedData(domain.domain(), Map.of("Permit", type), "Permit", message),
                    List.of(me.checksummed()), me.checksummed(), null);
        }
        byte[] sig = permit.bytes();
        args.put("v", Integer.toString(sig[64] & 0xff));
        return new PreparedCall("open", next.hex(), gateway.address().checksummed(), ChannelCalls.OPEN_WITH_PERMIT, args,
                ChannelCalls.openWithPermit(counterparty, token, deposit, period, deadline, sig[64] & 0xff,
                        permit.r(), permit.s()), null, List.of(), me.checksummed(), null);
    }

    @PostMapping("/{id}/calls/accept")
    @Operation(summary = "accept: participant B consents (its own key signs) and deposits; approve first if it deposits")
    @ApiResponse(responseCode = "409", description = CONFLICT)
    @ApiResponse(responseCode = "422", description = UNPROCESSABLE)
    public PreparedCall accept(@PathVariable String id, @RequestHeader(value = "Idempotency-Key", required = false)
                               String key, @RequestBody(required = false) AmountOrder order) {
        Address me = Principals.current();
        Channel c = channel(id, me);
        BigInteger amount = optionalAmount(order);
        requireState(c, ChannelState.PENDING);
        if (!c.b().equals(me)) {
            throw new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, "CHANNEL_NOT_PARTICIPANT_ROLE",
                    "only participant B accepts");
        }
        return new PreparedCall("accept", c.id().hex(), gateway.address().checksummed(), ChannelCalls.ACCEPT,
                ordered("channelId", c.id().hex(), "signingKeyB", Address.ZERO.checksummed(), "depositB",
                        amount.toString()), ChannelCalls.accept(c.id(), amount), null, List.of(), me.checksummed(),
                approve(c, amount));
    }

    @PostMapping("/{id}/calls/deposit")
    @Operation(summary = "deposit: a top-up of the caller's deposit (approve first)")
    @ApiResponse(responseCode = "409", description = CONFLICT)
    public PreparedCall deposit(@PathVariable String id, @RequestHeader(value = "Idempotency-Key", required = false)
                                String key, @RequestBody AmountOrder order) {
        Address me = Principals.current();
        Channel c = channel(id, me);
        Inputs inputs = Inputs.check();
        BigInteger amount = inputs.amount("amount", order.amount());
        inputs.orThrow();
        if (!(c.state() == ChannelState.OPEN || c.state() == ChannelState.PENDING && c.a().equals(me))) {
            throw invalidState(c);
        }
        return new PreparedCall("deposit", c.id().hex(), gateway.address().checksummed(), ChannelCalls.DEPOSIT,
                ordered("channelId", c.id().hex(), "amount", amount.toString()), ChannelCalls.deposit(c.id(), amount),
                null, List.of(), me.checksummed(), approve(c, amount));
    }

    @PostMapping("/{id}/calls/withdraw")
    @Operation(summary = "withdraw: the Withdrawal both keys sign, then (with signatureA and signatureB) the call data")
    @ApiResponse(responseCode = "409", description = CONFLICT)
    @ApiResponse(responseCode = "422", description = UNPROCESSABLE)
    public PreparedCall withdraw(@PathVariable String id, @RequestHeader(value = "Idempotency-Key", required = false)
                                 String key, @RequestBody WithdrawOrder order) {
        Address me = Principals.current();
        Channel c = channel(id, me);
        Inputs inputs = Inputs.check();
        Address participant = order.participant() == null ? me : inputs.address("participant", order.participant());
        BigInteger total = inputs.amount("totalWithdrawn", order.totalWithdrawn());
        Instant expiry = expiry(inputs, order.expiry());
        ChannelSignature sigA = signature(inputs, "signatureA", order.signatureA());
        ChannelSignature sigB = signature(inputs, "signatureB", order.signatureB());
        inputs.orThrow();
        requireState(c, ChannelState.OPEN);
        if (!c.isParticipant(participant)) {
            throw new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, "CHANNEL_NOT_PARTICIPANT_ROLE",
                    "the participant must be A or B of this channel");
        }
        BigInteger available = c.sideA().deposit().add(c.sideB().deposit())
                .subtract(c.side(c.counterparty(participant)).withdrawn());
        if (total.compareTo(available) > 0 || total.compareTo(c.side(participant).withdrawn()) <= 0) {
            throw new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, "CHANNEL_WITHDRAWAL_EXCEEDS_FUNDS",
                    "totalWithdrawn must be above the participant's withdrawn total ("
                            + c.side(participant).withdrawn() + ") and at most " + available);
        }
        Withdrawal message = new Withdrawal(c.id(), participant, Amount.of(total), expiry);
        Map<String, String> fields = ordered("channelId", c.id().hex(), "participant", participant.checksummed(),
                "totalWithdrawn", total.toString(), "expiry", Long.toString(expiry.getEpochSecond()));
        String calldata = signed(c, message, sigA, sigB) ? ChannelCalls.withdraw(c.id(), participant, total,
                BigInteger.valueOf(expiry.getEpochSecond()), sigA.bytes(), sigB.bytes()) : null;
        return new PreparedCall("withdraw", c.id().hex(), gateway.address().checksummed(), ChannelCalls.WITHDRAW,
                fields, calldata, typedData("Withdrawal", List.of(field("channelId", "bytes32"),
                        field("participant", "address"), field("totalWithdrawn", "uint256"), field("expiry", "uint256")),
                        fields), keys(c), null, null);
    }

    @PostMapping("/{id}/calls/cooperative-close")
    @Operation(summary = "cooperativeClose: the CooperativeClose both keys sign (totals from the newest proofs unless"
            + " given), then (with both signatures) the call data")
    @ApiResponse(responseCode = "409", description = CONFLICT)
    @ApiResponse(responseCode = "422", description = UNPROCESSABLE)
    public PreparedCall cooperativeClose(@PathVariable String id,
                                         @RequestHeader(value = "Idempotency-Key", required = false) String key,
                                         @RequestBody(required = false) CooperativeCloseOrder order) {
        Address me = Principals.current();
        Channel c = channel(id, me);
        CooperativeCloseOrder o = order == null ? new CooperativeCloseOrder(null, null, null, null, null) : order;
        Inputs inputs = Inputs.check();
        BigInteger totalA = o.totalWithdrawnA() == null ? null : ChannelController.uint(inputs, "totalWithdrawnA",
                o.totalWithdrawnA());
        BigInteger totalB = o.totalWithdrawnB() == null ? null : ChannelController.uint(inputs, "totalWithdrawnB",
                o.totalWithdrawnB());
        Instant expiry = expiry(inputs, o.expiry());
        ChannelSignature sigA = signature(inputs, "signatureA", o.signatureA());
        ChannelSignature sigB = signature(inputs, "signatureB", o.signatureB());
        inputs.orThrow();
        requireState(c, ChannelState.OPEN);
        if (totalA == null || totalB == null) {
            BigInteger[] payouts = c.payouts(newest(c, c.a()), newest(c, c.b()));
            totalA = c.sideA().withdrawn().add(payouts[0]);
            totalB = c.sideB().withdrawn().add(payouts[1]);
        }
        BigInteger deposits = c.sideA().deposit().add(c.sideB().deposit());
        if (!totalA.add(totalB).equals(deposits) || totalA.compareTo(c.sideA().withdrawn()) < 0
                || totalB.compareTo(c.sideB().withdrawn()) < 0) {
            throw new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, "CHANNEL_COOPERATIVE_CLOSE_MISMATCH",
                    "the totals must add up to all deposits (" + deposits + ") and not fall below what each withdrew");
        }
        CooperativeClose message = new CooperativeClose(c.id(), Amount.of(totalA), Amount.of(totalB), expiry);
        Map<String, String> fields = ordered("channelId", c.id().hex(), "totalWithdrawnA", totalA.toString(),
                "totalWithdrawnB", totalB.toString(), "expiry", Long.toString(expiry.getEpochSecond()));
        String calldata = signed(c, message, sigA, sigB) ? ChannelCalls.cooperativeClose(c.id(), totalA, totalB,
                BigInteger.valueOf(expiry.getEpochSecond()), sigA.bytes(), sigB.bytes()) : null;
        return new PreparedCall("cooperativeClose", c.id().hex(), gateway.address().checksummed(),
                ChannelCalls.COOPERATIVE_CLOSE, fields, calldata, typedData("CooperativeClose",
                        List.of(field("channelId", "bytes32"), field("totalWithdrawnA", "uint256"),
                                field("totalWithdrawnB", "uint256"), field("expiry", "uint256")), fields),
                keys(c), null, null);
    }

    @PostMapping("/{id}/calls/close")
    @Operation(summary = "close: a unilateral close with the newest proof of the counterparty the caller stored")
    @ApiResponse(responseCode = "409", description = CONFLICT)
    public PreparedCall close(@PathVariable String id, @RequestHeader(value = "Idempotency-Key", required = false)
                              String key, @RequestBody(required = false) NoArguments body) {
        Address me = Principals.current();
        Channel c = channel(id, me);
        if (c.state() != ChannelState.OPEN && c.state() != ChannelState.PENDING) {
            throw invalidState(c);
        }
        Optional<ChannelStore.StoredProof> proof = channels.proof(c.id(), c.counterparty(me));
        BigInteger nonce = proof.map(ChannelStore.StoredProof::nonce).orElse(BigInteger.ZERO);
        BigInteger transferred = proof.map(ChannelStore.StoredProof::transferred).orElse(BigInteger.ZERO);
        byte[] signature = proof.map(p -> ChannelSignature.fromHex(p.signature()).bytes()).orElse(new byte[0]);
        return new PreparedCall("close", c.id().hex(), gateway.address().checksummed(), ChannelCalls.CLOSE,
                ordered("channelId", c.id().hex(), "nonce", nonce.toString(), "transferred", transferred.toString(),
                        "counterpartySignature", proof.map(ChannelStore.StoredProof::signature).orElse("0x")),
                ChannelCalls.close(c.id(), nonce, transferred, signature), null, List.of(), me.checksummed(), null);
    }

    @PostMapping("/{id}/calls/settle")
    @Operation(summary = "settle: pays both sides after the challenge period (anyone may send it)")
    @ApiResponse(responseCode = "409", description = CONFLICT)
    public PreparedCall settle(@PathVariable String id, @RequestHeader(value = "Idempotency-Key", required = false)
                               String key, @RequestBody(required = false) NoArguments body) {
        Address me = Principals.current();
        Channel c = channel(id, me);
        requireState(c, ChannelState.CLOSING);
        return new PreparedCall("settle", c.id().hex(), gateway.address().checksummed(), ChannelCalls.SETTLE,
                ordered("channelId", c.id().hex()), ChannelCalls.settle(c.id()), null, List.of(), me.checksummed(),
                null);
    }

    @PostMapping("/{id}/calls/claim")
    @Operation(summary = "claim: the caller's payout that the token refused at settlement, to an address of its choice")
    @ApiResponse(responseCode = "409", description = CONFLICT)
    public PreparedCall claim(@PathVariable String id, @RequestHeader(value = "Idempotency-Key", required = false)
                              String key, @RequestBody(required = false) ClaimOrder order) {
        Address me = Principals.current();
        Channel c = channel(id, me);
        Inputs inputs = Inputs.check();
        Address to = order == null || order.to() == null ? me : inputs.address("to", order.to());
        inputs.orThrow();
        requireState(c, ChannelState.SETTLED);
        if (c.side(me).unclaimed().signum() == 0) {
            throw new ApiException(HttpStatus.CONFLICT, "CHANNEL_NOTHING_TO_CLAIM", "the caller has no unclaimed payout");
        }
        return new PreparedCall("claim", c.id().hex(), gateway.address().checksummed(), ChannelCalls.CLAIM,
                ordered("channelId", c.id().hex(), "to", to.checksummed()), ChannelCalls.claim(c.id(), to), null,
                List.of(), me.checksummed(), null);
    }

    // ------------------------------------------------------------------ helpers

    private Channel channel(String id, Address me) {
        return channels.visible(ChannelController.checkId(id), me).orElseThrow(() -> ApiException.notFound("channel"));
    }

    private BigInteger newest(Channel c, Address signer) {
        return channels.proof(c.id(), signer).map(ChannelStore.StoredProof::transferred).orElse(BigInteger.ZERO)
                .max(c.side(signer).transferred());
    }

    /** Whether both signatures are present and right; wrong ones are refused (422). */
    private boolean signed(Channel c, ChannelTypedData message, ChannelSignature sigA, ChannelSignature sigB) {
        if (sigA == null || sigB == null) {
            return false;
        }
        if (!channels.verify(message, sigA, c.keyA())) {
            throw new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, "CHANNEL_SIGNATURE_INVALID",
                    "signatureA is not A's key (" + c.keyA().checksummed() + ") over this message");
        }
        if (!channels.verify(message, sigB, c.keyB())) {
            throw new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, "CHANNEL_SIGNATURE_INVALID",
                    "signatureB is not B's key (" + c.keyB().checksummed() + ") over this message");
        }
        return true;
    }

    private TypedData typedData(String primaryType, List<Map<String, String>> type, Map<String, String> message) {
        ChannelDomain d = channels.typedDataSigner().domain();
        Map<String, Object> domain = new LinkedHashMap<>();
        domain.put("name", d.name());
        domain.put("version", d.version());
        domain.put("chainId", Long.toString(d.chainId()));
        domain.put("verifyingContract", d.verifyingContract().checksummed());
        return new TypedData(domain, Map.of(primaryType, type), primaryType, message);
    }

    private Approve approve(Channel c, BigInteger amount) {
        if (amount.signum() == 0) {
            return null;
        }
        return new Approve(c.token().checksummed(), ChannelCalls.APPROVE, ChannelCalls.approve(gateway.address(), amount));
    }

    private static List<String> keys(Channel c) {
        return List.of(c.keyA().checksummed(), c.keyB().checksummed());
    }

    private static void requireState(Channel c, ChannelState expected) {
        if (c.state() != expected) {
            throw invalidState(c);
        }
    }

    private static ApiException invalidState(Channel c) {
        return new ApiException(HttpStatus.CONFLICT, "CHANNEL_INVALID_STATE", "the channel is " + c.state());
    }

    private static BigInteger optionalAmount(AmountOrder order) {
        if (order == null || order.amount() == null || order.amount().equals("0")) {
            return BigInteger.ZERO;
        }
        Inputs inputs = Inputs.check();
        BigInteger amount = inputs.amount("amount", order.amount());
        inputs.orThrow();
        return amount;
    }

    private Instant expiry(Inputs inputs, String value) {
        if (value == null) {
            return clock.instant().plus(AUTHORIZATION_VALIDITY).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        }
        if (!value.matches("[0-9]{1,12}")) {
            return inputs.error("expiry", "INVALID", "a block timestamp in seconds");
        }
        return Instant.ofEpochSecond(Long.parseLong(value));
    }

    private static ChannelSignature signature(Inputs inputs, String field, String value) {
        if (value == null) {
            return null;
        }
        if (!SIGNATURE.matcher(value).matches()) {
            return inputs.error(field, "INVALID", "0x and 130 hex digits (r, s, v)");
        }
        return ChannelSignature.fromHex(value);
    }

    private static Map<String, String> field(String name, String type) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("name", name);
        f.put("type", type);
        return f;
    }

    private static Map<String, String> ordered(String... pairs) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            out.put(pairs[i], pairs[i + 1]);
        }
        return out;
    }
}
