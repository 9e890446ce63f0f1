package io.llic.model;

import java.io.IOException;

/** A model directory that is missing, malformed, or not the model a bitstream was coded with. */
public final class ModelException extends IOException {
    public ModelException(String message) {
        super(message);
    }

    public ModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
