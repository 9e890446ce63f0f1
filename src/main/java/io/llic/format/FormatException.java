package io.llic.format;

import java.io.IOException;

/** A .llic file that is truncated, corrupt, of an unknown version, or otherwise unreadable. */
public final class FormatException extends IOException {
    public FormatException(String message) {
        super(message);
    }
}
