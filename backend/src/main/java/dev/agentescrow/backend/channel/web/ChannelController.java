package dev.agentescrow.backend.channel.web;

import dev.agentescrow.backend.channel.Channel;
import dev.agentescrow.backend.channel.ChannelStore;
import dev.agentescrow.backend.channel.Channels;
import dev.agentescrow.backend.channel.ChannelSettings;
import dev.agentescrow.backend.channel.Watchtower;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.agentescrow.backend.common.web.ApiException;
import dev.agentescrow.backend.common.web.Inputs;
import dev.agentescrow.backend.common.web.Principals;
import dev.agentescrow.backend.common.web.ReadFloor;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.channel.ChannelNonce;
import dev.agentescrow.chain.channel.ChannelSignature;
import dev.agentescrow.chain.channel.ChannelState;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Payment channels of the signed-in agent: its channels as indexed from the PaymentChannels
 * contract, its registration (and watchtower choice), and the store of the newest balance proof
 * the counterparty signed. See docs/channels-api.md.
 */
@RestController
@RequestMapping("/api/v1/channels")
@Tag(name = "channels", description = "PaymentChannels: indexed state, stored proofs, prepared calls, the watchtower")
public class ChannelController {
    static final Pattern CHANNEL_ID = Pattern.compile("0x[0-9a-fA-F]{64}");
    private static final Pattern DECIMAL = Pattern.compile("[0-9]{1,78}");
    private static final Pattern SIGNATURE = Pattern.compile("0x[0-9a-fA-F]{130}");
    private static final int MAX_PAGE = 100;
    static final int MAX_BATCH = 100;

    private final Channels channels;
    private final Watchtower watchtower;
    private final boolean watchtowerRuns;
    private final ReadFloor floor;

    public ChannelController(Channels channels, Watchtower watchtower, ChannelSettings settings, ReadFloor floor) {
        this.channels = channels;
        this.watchtower = watchtower;
        this.watchtowerRuns = settings.watchtowerEnabled() && watchtower.address().isPresent();
        this.floor = floor;
    }

    public record Page(List<ChannelView> items, String nextCursor) {
    }

    /** A balance proof the counterparty signed: its channel, nonce, running total and 65-byte signature. */
    public record ProofOrder(String channelId, String nonce, String transferred, String signature) {
    }

    /** {@code watchtower}: whether the service defends the caller in this channel (omitted: keep, new: true). */
    public record Registration(Boolean watchtower) {
    }

    public record ProofAnswer(String channelId, ChannelView.ProofView proof, boolean replayed) {
    }

    /** 1 to {@value #MAX_BATCH} balance proofs of this channel, each as POST .../proofs takes it. */
    public record ProofBatch(List<ProofOrder> proofs) {
    }

    /** One proof's result: {@code status} 201/200 with POST .../proofs' body, else status, code and detail. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ProofBatchItem(int status, String channelId, ChannelView.ProofView proof, Boolean replayed,
                                 String code, String detail) {
    }

    /** {@code items[i]}: the result of {@code proofs[i]}. */
    public record ProofBatchAnswer(List<ProofBatchItem> items) {
    }

    @GetMapping
    @Operation(summary = "The caller's channels (as participant A or B), newest first; filter by state; keyset pages")
    public Page list(@RequestParam(required = false) String state, @RequestParam(required = false) String cursor,
                     @RequestParam(required = false) Integer limit) {
        Address me = Principals.current();
        ChannelState filter = null;
        if (state != null) {
            filter = Arrays.stream(ChannelState.values()).filter(s -> s.name().equalsIgnoreCase(state)).findFirst()
                    .orElseThrow(() -> ApiException.invalidField("state", "INVALID_VALUE",
                            "one of PENDING, OPEN, CLOSING, SETTLED"));
        }
        long before = 0;
        if (cursor != null) {
            if (!cursor.matches("[1-9][0-9]{0,17}")) {
                throw ApiException.badRequest("INVALID_CURSOR", "cursor is not a nextCursor this service gave out");
            }
            before = Long.parseLong(cursor);
        }
        int size = limit == null ? 20 : limit;
        if (size < 1 || size > MAX_PAGE) {
            throw ApiException.invalidField("limit", "OUT_OF_RANGE", "1 to " + MAX_PAGE);
        }
        List<ChannelStore.Listed> rows = channels.list(me, filter, before, size);
        List<ChannelView> items = rows.stream().map(l -> view(l.channel(), me)).toList();
        String next = rows.size() == size ? Long.toString(rows.getLast().position()) : null;
        return new Page(items, next);
    }

    @GetMapping("/{id}")
    @Operation(summary = "One channel: state, deposits, withdrawals, the newest stored proofs, the payouts if it closed now")
    @ApiResponse(responseCode = "404", description = "NOT_FOUND (not a participant, or not indexed yet)")
    public ChannelView get(@PathVariable String id) {
        Address me = Principals.current();
        Channel channel = channels.visible(checkId(id), me).orElseThrow(() -> ApiException.notFound("channel"));
        return view(channel, me);
    }

    @PostMapping("/{id}/register")
    @Operation(summary = "A participant registers the channel (and chooses whether the watchtower defends it)")
    @ApiResponse(responseCode = "200", description = "the channel with the caller's registration")
    @ApiResponse(responseCode = "404", description = "NOT_FOUND (not a participant, or not indexed yet)")
    public ChannelView register(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                                @RequestBody(required = false) Registration body) {
        Address me = Principals.current();
        Bytes32 channelId = checkId(id);
        channels.register(channelId, me, body == null ? null : body.watchtower())
                .orElseThrow(() -> ApiException.notFound("channel"));
        return view(channels.visible(channelId, me).orElseThrow(), me);
    }

    @PostMapping("/{id}/proofs")
    @Operation(summary = "Stores the newest balance proof the counterparty signed (idempotent on the proof's hash;"
            + " an Idempotency-Key is optional); answered after the commit of the group it is written with")
    @ApiResponse(responseCode = "201", description = "stored: newer than the one stored before")
    @ApiResponse(responseCode = "200", description = "this very proof was stored already (replayed)")
    @ApiResponse(responseCode = "404", description = "NOT_FOUND (not a participant, or not indexed yet)")
    @ApiResponse(responseCode = "409", description = "CHANNEL_PROOF_STALE, CHANNEL_INVALID_STATE")
    @ApiResponse(responseCode = "422", description = "CHANNEL_PROOF_INVALID_SIGNATURE (forged, or signed for another"
            + " channel or domain), CHANNEL_PROOF_WRONG_CHANNEL, CHANNEL_PROOF_EXCEEDS_DEPOSIT")
    @ApiResponse(responseCode = "503", description = "CHANNEL_PROOFS_BUSY (too many proofs of this channel wait to be"
            + " written), CHANNEL_PROOFS_NOT_STORED (the write of its group failed: nothing stored); both with"
            + " Retry-After, and safe to send again")
    public ResponseEntity<ProofAnswer> storeProof(@PathVariable String id,
                                                  @RequestHeader(value = "Idempotency-Key", required = false) String key,
                                                  @RequestBody ProofOrder body) {
        Address me = Principals.current();
        Bytes32 channelId = checkId(id);
        Inputs inputs = Inputs.check();
        Channels.ProofInput proof = checkProof(inputs, "", body);
        inputs.orThrow();
        Channels.ProofResult wrong = wrongChannel(channelId, body);
        if (wrong != null) {
            throw new ApiException(HttpStatus.valueOf(wrong.status()), wrong.code(), wrong.message());
        }
        Channels.ProofResult result = channels.storeProof(channelId, me, proof.nonce(), proof.transferred(),
                proof.signature());
        refuseWhole(List.of(result));
        if (!result.ok()) {
            throw new ApiException(HttpStatus.valueOf(result.status()), result.code(), result.message());
        }
        return ResponseEntity.status(result.created() ? HttpStatus.CREATED : HttpStatus.OK)
                .body(new ProofAnswer(channelId.hex(), ChannelView.ProofView.of(result.proof()), !result.created()));
    }

    @PostMapping("/{id}/proofs/batch")
    @Operation(summary = "Stores 1 to " + MAX_BATCH + " balance proofs the counterparty signed, each as POST"
            + " .../proofs would (idempotent on each proof's hash; an Idempotency-Key is optional): all verified,"
            + " then written together in one group or consecutive ones, in nonce order; one result per proof, in"
            + " the request's order, answered after the commits")
    @ApiResponse(responseCode = "200", description = "the batch was processed: items[i] is proofs[i]'s result, even"
            + " when some were refused; a stored one has status 201 (new) or 200 (replayed: true) and the body POST"
            + " .../proofs answers (channelId, proof, replayed), a refused one its status, code and detail:"
            + " 409 CHANNEL_PROOF_STALE, CHANNEL_INVALID_STATE; 422 CHANNEL_PROOF_INVALID_SIGNATURE,"
            + " CHANNEL_PROOF_WRONG_CHANNEL, CHANNEL_PROOF_EXCEEDS_DEPOSIT")
    @ApiResponse(responseCode = "400", description = "VALIDATION_FAILED: errors[] names proofs (REQUIRED: none;"
            + " TOO_MANY: over " + MAX_BATCH + ") or proofs[i].nonce, .transferred, .signature, .channelId")
    @ApiResponse(responseCode = "404", description = "NOT_FOUND (not a participant, or not indexed yet)")
    @ApiResponse(responseCode = "503", description = "CHANNEL_PROOFS_BUSY (the channel's queue has no room for the"
            + " batch, or its write took too long), CHANNEL_PROOFS_NOT_STORED (the write of a group with some of its"
            + " proofs failed); both with Retry-After: send the whole batch again (its stored proofs answer 200,"
            + " replayed)")
    public ProofBatchAnswer storeProofs(@PathVariable String id,
                                        @RequestHeader(value = "Idempotency-Key", required = false) String key,
                                        @RequestBody ProofBatch body) {
        Address me = Principals.current();
        Bytes32 channelId = checkId(id);
        List<ProofOrder> orders = body.proofs();
        if (orders == null || orders.isEmpty()) {
            throw ApiException.invalidField("proofs", "REQUIRED", "1 to " + MAX_BATCH + " proofs");
        }
        if (orders.size() > MAX_BATCH) {
            throw ApiException.invalidField("proofs", "TOO_MANY", "at most " + MAX_BATCH + " proofs");
        }
        Inputs inputs = Inputs.check();
        List<Channels.ProofInput> proofs = new ArrayList<>(orders.size());
        for (int i = 0; i < orders.size(); i++) {
            ProofOrder order = orders.get(i);
            if (order == null) {
                inputs.error("proofs[" + i + "]", "REQUIRED", "a proof");
                proofs.add(null);
            } else {
                proofs.add(checkProof(inputs, "proofs[" + i + "].", order));
            }
        }
        inputs.orThrow();
        // a proof that names another channel is refused as POST .../proofs refuses it; the rest go to the lane
        Channels.ProofResult[] results = new Channels.ProofResult[orders.size()];
        List<Channels.ProofInput> lane = new ArrayList<>(orders.size());
        for (int i = 0; i < orders.size(); i++) {
            results[i] = wrongChannel(channelId, orders.get(i));
            if (results[i] == null) {
                lane.add(proofs.get(i));
            }
        }
        if (!lane.isEmpty()) {
            Iterator<Channels.ProofResult> stored = channels.storeProofs(channelId, me, lane).iterator();
            for (int i = 0; i < results.length; i++) {
                if (results[i] == null) {
                    results[i] = stored.next();
                }
            }
        }
        refuseWhole(Arrays.asList(results));
        return new ProofBatchAnswer(Arrays.stream(results).map(r -> r.ok()
                ? new ProofBatchItem(r.created() ? 201 : 200, channelId.hex(), ChannelView.ProofView.of(r.proof()),
                        !r.created(), null, null)
                : new ProofBatchItem(r.status(), null, null, null, r.code(), r.message())).toList());
    }

    /** A proof's fields checked (errors into {@code inputs}, named with {@code prefix}); null if any is invalid. */
    private static Channels.ProofInput checkProof(Inputs inputs, String prefix, ProofOrder body) {
        if (body.channelId() == null) {
            inputs.error(prefix + "channelId", "REQUIRED", "required: the channel the proof names");
        } else if (!CHANNEL_ID.matcher(body.channelId()).matches()) {
            inputs.error(prefix + "channelId", "INVALID", "0x and 64 hex digits");
        }
        BigInteger nonce = uint(inputs, prefix + "nonce", body.nonce());
        if (nonce != null && nonce.signum() == 0) {
            nonce = inputs.error(prefix + "nonce", "OUT_OF_RANGE", "at least 1 (nonce 0 is no proof)");
        }
        BigInteger transferred = uint(inputs, prefix + "transferred", body.transferred());
        boolean signed = body.signature() != null && SIGNATURE.matcher(body.signature()).matches();
        if (body.signature() == null) {
            inputs.error(prefix + "signature", "REQUIRED", "required");
        } else if (!signed) {
            inputs.error(prefix + "signature", "INVALID", "0x and 130 hex digits (r, s, v)");
        }
        if (nonce == null || transferred == null || !signed) {
            return null;
        }
        return new Channels.ProofInput(new ChannelNonce(nonce), Amount.of(transferred),
                ChannelSignature.fromHex(body.signature()));
    }

    /** The refusal of a (well-formed) proof that names another channel than the path's; null if it names this one. */
    private static Channels.ProofResult wrongChannel(Bytes32 channelId, ProofOrder body) {
        if (Bytes32.fromHex(body.channelId()).equals(channelId)) {
            return null;
        }
        return Channels.ProofResult.refused(422, "CHANNEL_PROOF_WRONG_CHANNEL",
                "the proof names channel " + body.channelId().toLowerCase(Locale.ROOT) + ", not this one");
    }

    /**
     * The refusals that answer a whole request, not one proof: the channel not found for the caller
     * (404, the same for all its proofs), and a proof not written (503 with Retry-After: nothing is
     * claimed stored; sent again, the stored ones replay). A proof changes nothing in the ledger: the
     * write acknowledges no ledger position beyond the instance's floor (so no query of the ledger's
     * position after it, one statement less per request).
     */
    private void refuseWhole(List<Channels.ProofResult> results) {
        floor.acknowledged(floor.position());
        for (Channels.ProofResult result : results) {
            if (result.status() == 404) {
                throw ApiException.notFound("channel");
            }
        }
        for (Channels.ProofResult result : results) {
            if (result.status() == 503) {
                throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE, result.code(), result.message(), List.of(),
                        java.util.Map.of("Retry-After", "1"));
            }
        }
    }

    static Bytes32 checkId(String id) {
        if (!CHANNEL_ID.matcher(id).matches()) {
            throw ApiException.notFound("channel");
        }
        return Bytes32.fromHex(id.toLowerCase(Locale.ROOT));
    }

    /** A uint256 as a decimal string (0 allowed). */
    static BigInteger uint(Inputs inputs, String field, String value) {
        if (value == null) {
            return inputs.error(field, "REQUIRED", "required");
        }
        if (!DECIMAL.matcher(value).matches() || new BigInteger(value).compareTo(ChannelNonce.MAX_UINT256) > 0) {
            return inputs.error(field, "INVALID_AMOUNT", "a decimal string, at most 2^256 - 1");
        }
        return new BigInteger(value);
    }

    private ChannelView view(Channel c, Address me) {
        var registration = channels.registration(c.id(), me);
        var tower = ChannelView.Watchtower.of(registration.isPresent(),
                registration.map(ChannelStore.Registration::watchtower).orElse(false), watchtowerRuns,
                watchtower.address(), watchtower.submissions(c.id()));
        return ChannelView.of(c, me, channels.proof(c.id(), c.a()), channels.proof(c.id(), c.b()),
                channels.movements(c.id()), tower);
    }
}
