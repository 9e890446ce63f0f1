package io.llic.entropy;

import java.io.IOException;

/** An entropy-coded stream that cannot have come from the encoder (truncated or damaged). */
public final class CorruptStreamException extends IOException {
    public CorruptStreamException(String message) {
        super(message);
    }
}
