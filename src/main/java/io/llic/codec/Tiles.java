package io.llic.codec;

import java.util.ArrayList;
import java.util.List;

/**
 * The container's tile layout (the header's {@code tileSize}): an image is cut into tiles of side
 * {@code size}, the last row and column narrower, in raster order; size 0 is one piece, the image.
 * Encoder, decoder and the cost count all walk the same pieces.
 */
record Tiles(int width, int height, int size) {
    /** One tile: its top-left corner and its size. */
    record Piece(int row, int col, int width, int height) {}

    /** The side of a tile (the image's longer side when untiled). */
    int side() {
        return size == 0 ? Math.max(width, height) : size;
    }

    /** Number of tiles, computed without listing them (a corrupt header may claim very many). */
    long count() {
        long side = side();
        return ((width + side - 1) / side) * ((height + side - 1) / side);
    }

    /** The tiles in raster order (call after {@link #count()} has been checked). */
    List<Piece> pieces() {
        int side = side();
        List<Piece> pieces = new ArrayList<>();
        for (int row = 0; row < height; row += side) {
            for (int col = 0; col < width; col += side) {
                pieces.add(new Piece(row, col, Math.min(side, width - col), Math.min(side, height - row)));
            }
        }
        return pieces;
    }
}
