package io.llic.spark;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** eval-job's summary table and its self-contained HTML report (inline SVG charts, no scripts). */
final class EvalReport {
    private static final String[] COLOURS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"};

    private EvalReport() {}

    /** One codec over the dataset. */
    record CodecSummary(String codec, int images, int failed, long pixels, long bits, double meanBpp,
                        double medianEncodeMillis, double medianDecodeMillis, boolean allLossless) {
        double totalBpp() {
            return pixels == 0 ? Double.NaN : (double) bits / pixels;
        }
    }

    /** All codecs, and the codecs skipped with the reason. */
    record Summary(List<CodecSummary> codecs, Map<String, String> skipped) {
        String table() {
            StringBuilder b = new StringBuilder("codec\timages\tfailed\tbpp_total\tbpp_mean\tmedian_encode_ms"
                    + "\tmedian_decode_ms\tlossless\n");
            for (CodecSummary c : codecs) {
                b.append(String.format(Locale.ROOT, "%s\t%d\t%d\t%.4f\t%.4f\t%.1f\t%.1f\t%s%n", c.codec(), c.images(),
                        c.failed(), c.totalBpp(), c.meanBpp(), c.medianEncodeMillis(), c.medianDecodeMillis(),
                        c.allLossless()));
            }
            skipped.forEach((k, v) -> b.append("# skipped ").append(k).append(": ").append(v).append('\n'));
            return b.toString();
        }
    }

    static Summary summarise(List<Row> rows, Map<String, String> skipped) {
        Map<String, List<Row>> byCodec = new TreeMap<>();
        for (Row r : rows) {
            if (!r.getString(1).equals("input")) {
                byCodec.computeIfAbsent(r.getString(1), k -> new ArrayList<>()).add(r);
            }
        }
        List<CodecSummary> out = new ArrayList<>();
        for (Map.Entry<String, List<Row>> e : byCodec.entrySet()) {
            long pixels = 0;
            long bits = 0;
            int failed = 0;
            double bppSum = 0;
            boolean lossless = true;
            List<Double> enc = new ArrayList<>();
            List<Double> dec = new ArrayList<>();
            for (Row r : e.getValue()) {
                if (r.isNullAt(3)) {
                    failed++;
                    continue;
                }
                pixels += r.getLong(2);
                bits += r.getLong(3);
                bppSum += r.getDouble(4);
                enc.add(r.getDouble(5));
                dec.add(r.getDouble(6));
                lossless &= r.getBoolean(7);
            }
            int ok = e.getValue().size() - failed;
            out.add(new CodecSummary(e.getKey(), e.getValue().size(), failed, pixels, bits, ok == 0 ? Double.NaN : bppSum / ok,
                    median(enc), median(dec), lossless && failed == 0));
        }
        return new Summary(out, skipped);
    }

    static double median(List<Double> v) {
        if (v.isEmpty()) {
            return Double.NaN;
        }
        double[] s = v.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static void write(SparkSession spark, Path out, List<Row> rows, Summary summary, Map<String, Object> meta)
            throws IOException {
        FileSystem fs = out.getFileSystem(spark.sparkContext().hadoopConfiguration());
        Jobs.writeText(fs, new Path(out, "summary.tsv"), summary.table());
        Jobs.writeText(fs, new Path(out, "per_image.csv"), csv(rows));
        Map<String, Object> json = new LinkedHashMap<>(meta);
        json.put("codecs", summary.codecs().stream().map(c -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("codec", c.codec());
            m.put("images", c.images());
            m.put("failed", c.failed());
            m.put("pixels", c.pixels());
            m.put("bits", c.bits());
            m.put("bitsPerPixel", c.totalBpp());
            m.put("meanBitsPerPixel", c.meanBpp());
            m.put("medianEncodeMillis", c.medianEncodeMillis());
            m.put("medianDecodeMillis", c.medianDecodeMillis());
            m.put("lossless", c.allLossless());
            return m;
        }).toList());
        json.put("skipped", summary.skipped());
        Jobs.writeText(fs, new Path(out, "summary.json"), Jobs.JSON.writeValueAsString(json));
        Jobs.writeText(fs, new Path(out, "report.html"), html(rows, summary, meta));
    }

    /** The per-image rows as CSV, for tools without a Parquet reader (Debian's Python has none). */
    static String csv(List<Row> rows) {
        StringBuilder b = new StringBuilder("image_id,codec,pixels,bits,bits_per_pixel,encode_millis,decode_millis,lossless,error\n");
        for (Row r : rows) {
            for (int i = 0; i < r.size(); i++) {
                if (i > 0) {
                    b.append(',');
                }
                Object v = r.get(i);
                if (v != null) {
                    String s = String.valueOf(v);
                    b.append(s.matches("[A-Za-z0-9._:/+-]*") ? s : '"' + s.replace("\"", "\"\"") + '"');
                }
            }
            b.append('\n');
        }
        return b.toString();
    }

    static String html(List<Row> rows, Summary summary, Map<String, Object> meta) {
        List<String> codecs = summary.codecs().stream().map(CodecSummary::codec).toList();
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>llic eval: ").append(esc(String.valueOf(meta.get("input"))))
                .append("</title><style>body{font-family:sans-serif;margin:2em;max-width:1100px}"
                        + "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
                        + "th{background:#eee}td:first-child{text-align:left}</style></head><body>");
        h.append("<h1>llic evaluation</h1><p>Input: <code>").append(esc(String.valueOf(meta.get("input"))))
                .append("</code>; finished ").append(esc(String.valueOf(meta.get("finishedAt"))))
                .append(". bpp = bits per pixel (all three channels); total = total bits / total pixels.</p>");
        h.append("<h2>Summary</h2><table><tr><th>codec</th><th>images</th><th>failed</th><th>bpp (total)</th>"
                + "<th>bpp (mean)</th><th>median encode ms</th><th>median decode ms</th><th>lossless</th></tr>");
        for (CodecSummary c : summary.codecs()) {
            h.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%d</td><td>%d</td><td>%.4f</td><td>%.4f</td>"
                    + "<td>%.1f</td><td>%.1f</td><td>%s</td></tr>", esc(c.codec()), c.images(), c.failed(), c.totalBpp(),
                    c.meanBpp(), c.medianEncodeMillis(), c.medianDecodeMillis(), c.allLossless() ? "yes" : "NO"));
        }
        h.append("</table>");
        summary.skipped().forEach((k, v) -> h.append("<p>Skipped ").append(esc(k)).append(": ").append(esc(v)).append("</p>"));
        h.append("<h2>Bits per pixel, per image</h2>").append(barChart(rows, codecs));
        h.append("<h2>Decode time against bits per pixel</h2>").append(scatter(rows, codecs));
        h.append("</body></html>\n");
        return h.toString();
    }

    private static String legend(List<String> codecs, int x, int y) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < codecs.size(); i++) {
            s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                    + "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>", x, y + 18 * i, COLOURS[i % COLOURS.length],
                    x + 16, y + 18 * i + 11, esc(codecs.get(i))));
        }
        return s.toString();
    }

    static String barChart(List<Row> rows, List<String> codecs) {
        TreeSet<String> images = new TreeSet<>();
        Map<String, Double> bpp = new LinkedHashMap<>();
        double max = 1;
        for (Row r : rows) {
            if (!r.isNullAt(4)) {
                images.add(r.getString(0));
                bpp.put(r.getString(0) + "|" + r.getString(1), r.getDouble(4));
                max = Math.max(max, r.getDouble(4));
            }
        }
        int group = Math.max(12, 6 * codecs.size() + 6);
        int width = 60 + group * images.size() + 220;
        int height = 320;
        double scale = 260 / Math.ceil(max);
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">", width, height + 90));
        for (int t = 0; t <= Math.ceil(max); t += 2) {
            double y = height - t * scale;
            s.append(String.format(Locale.ROOT, "<line x1=\"50\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                    + "<text x=\"44\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%d</text>", width - 220, y, y, y + 4, t));
        }
        int i = 0;
        for (String img : images) {
            int x0 = 60 + group * i;
            for (int c = 0; c < codecs.size(); c++) {
                Double v = bpp.get(img + "|" + codecs.get(c));
                if (v != null) {
                    s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%.1f\" width=\"5\" height=\"%.1f\" fill=\"%s\">"
                            + "<title>%s %s: %.3f bpp</title></rect>", x0 + 6 * c, height - v * scale, v * scale,
                            COLOURS[c % COLOURS.length], esc(img), esc(codecs.get(c)), v));
                }
            }
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"10\" transform=\"rotate(60 %d %d)\">%s</text>",
                    x0, height + 12, x0, height + 12, esc(img)));
            i++;
        }
        s.append(legend(codecs, width - 200, 20)).append("</svg>");
        return s.toString();
    }

    static String scatter(List<Row> rows, List<String> codecs) {
        double maxBpp = 1;
        double maxMs = 1;
        for (Row r : rows) {
            if (!r.isNullAt(4)) {
                maxBpp = Math.max(maxBpp, r.getDouble(4));
                maxMs = Math.max(maxMs, r.getDouble(6));
            }
        }
        int w = 600;
        int h = 360;
        double logMax = Math.log10(maxMs * 1.5);
        double logMin = -1;
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">", w + 240, h + 60));
        for (int d = (int) Math.floor(logMin); d <= Math.ceil(logMax); d++) {
            double x = 60 + (d - logMin) / (logMax - logMin) * w;
            s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"10\" y2=\"%d\" stroke=\"#ddd\"/>"
                    + "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s ms</text>", x, x, h, x, h + 16,
                    d < 0 ? "0.1" : String.valueOf((long) Math.pow(10, d))));
        }
        for (int t = 0; t <= Math.ceil(maxBpp); t += 2) {
            double y = h - t / Math.ceil(maxBpp) * (h - 20);
            s.append(String.format(Locale.ROOT, "<text x=\"52\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%d</text>",
                    y + 4, t));
        }
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">decode time"
                + " per image (log scale)</text><text x=\"14\" y=\"%d\" font-size=\"12\" transform=\"rotate(-90 14 %d)\">"
                + "bpp</text>", 60 + w / 2, h + 40, h / 2, h / 2));
        for (Row r : rows) {
            if (r.isNullAt(4)) {
                continue;
            }
            int c = codecs.indexOf(r.getString(1));
            double x = 60 + (Math.log10(Math.max(0.1, r.getDouble(6))) - logMin) / (logMax - logMin) * w;
            double y = h - r.getDouble(4) / Math.ceil(maxBpp) * (h - 20);
            s.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\" fill-opacity=\"0.7\">"
                    + "<title>%s %s: %.3f bpp, %.1f ms</title></circle>", x, y, COLOURS[Math.max(0, c) % COLOURS.length],
                    esc(r.getString(0)), esc(r.getString(1)), r.getDouble(4), r.getDouble(6)));
        }
        s.append(legend(codecs, w + 80, 20)).append("</svg>");
        return s.toString();
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
