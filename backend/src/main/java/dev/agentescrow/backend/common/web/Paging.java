package dev.agentescrow.backend.common.web;

/**
 * Keyset pages by list position: {@code cursor} is the position of the last item of the page
 * before (a positive number this service gave out), {@code limit} 1 to a maximum.
 */
public final class Paging {
    public static final int MAX_LIMIT = 100;
    public static final int DEFAULT_LIMIT = 50;

    private Paging() {
    }

    /** The position to list before: 0 for the first page; 400 INVALID_CURSOR for anything else but a positive number. */
    public static long before(String cursor) {
        if (cursor == null) {
            return 0;
        }
        long before;
        try {
            before = Long.parseLong(cursor);
        } catch (NumberFormatException e) {
            before = -1;
        }
        if (before <= 0) {
            throw ApiException.invalidField("cursor", "INVALID_CURSOR", "a cursor from an earlier page");
        }
        return before;
    }

    /** The page size: {@link #DEFAULT_LIMIT} when absent; 400 OUT_OF_RANGE outside 1 to {@link #MAX_LIMIT}. */
    public static int limit(Integer limit) {
        int size = limit == null ? DEFAULT_LIMIT : limit;
        if (size < 1 || size > MAX_LIMIT) {
            throw ApiException.invalidField("limit", "OUT_OF_RANGE", "1 to " + MAX_LIMIT);
        }
        return size;
    }

    /**
     * The page size from its query text: {@link #DEFAULT_LIMIT} when absent; 400 OUT_OF_RANGE for
     * anything but a decimal number from 1 to {@code max} (so "abc" or "1e9" is the same code as 0).
     */
    public static int limit(String limit, int max) {
        if (limit == null) {
            return Math.min(DEFAULT_LIMIT, max);
        }
        int size = limit.matches("[0-9]{1,4}") ? Integer.parseInt(limit) : 0;
        if (size < 1 || size > max) {
            throw ApiException.invalidField("limit", "OUT_OF_RANGE", "1 to " + max);
        }
        return size;
    }
}
