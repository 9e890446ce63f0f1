package io.llic;

/** The project's version, as written into manifests and job outputs. */
public final class Version {
    public static final String LLIC = "0.1.0";
    private Version() {}
}
