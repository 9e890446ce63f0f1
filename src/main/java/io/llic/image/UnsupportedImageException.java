package io.llic.image;

import java.io.IOException;

/** An input that is not an image llic can code (not PNG, corrupt, or not 8-bit RGB). */
public final class UnsupportedImageException extends IOException {
    public UnsupportedImageException(String message) {
        super(message);
    }

    public UnsupportedImageException(String message, Throwable cause) {
        super(message, cause);
    }
}
