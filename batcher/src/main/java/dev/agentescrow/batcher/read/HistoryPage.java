package dev.agentescrow.batcher.read;

import java.util.List;
import java.util.OptionalLong;

/**
 * One page of an account's history, newest first. Pass {@link #nextCursor()} as the next call's
 * {@code beforeSeq}: pages never overlap and never skip a transfer, whatever commits meanwhile
 * (new transfers only get larger seqs; they show on a new first page).
 *
 * @param nextCursor the seq of the last entry when the page is full (there may be more), else empty
 */
public record HistoryPage(List<TransferRecord> entries, OptionalLong nextCursor) {
    public HistoryPage {
        entries = List.copyOf(entries);
    }
}
