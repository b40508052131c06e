package hg.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs the benchmark figures, prints them as a table and writes DIR/results.json.
 * usage: Bench --out DIR [--quick] [--only FIGURE[,FIGURE...]]
 */
public final class Bench {
    private Bench() {}

    /** Every figure this build can measure, in the order they are printed. */
    static List<Figure> figures() {
        List<Figure> all = new ArrayList<>(List.of(new ExitRoundTrip(), new CreateCpu(), new MemPerVm()));
        all.addAll(ApiFigures.figures());
        all.add(new ApiReady());
        all.add(new NestBoot());
        all.addAll(NestSnap.figures());
        all.addAll(NestGuest.blk());
        all.add(new BootsPerCore());
        all.addAll(RootfsBuild.figures());
        all.addAll(NestGuest.net());
        all.addAll(NestSnap.vsock());
        all.addAll(NestGuest.share());
        all.addAll(NestGuest.huge());
        all.addAll(NestGuest.density());
        return all;
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of("build/bench");
        boolean quick = false;
        java.util.Set<String> only = new java.util.LinkedHashSet<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(value(args, ++i, "--out"));
                case "--quick" -> quick = true;
                case "--only" -> only.addAll(List.of(value(args, ++i, "--only").split(",")));
                default -> {
                    System.err.println("bench: unknown argument " + args[i]
                            + " (usage: Bench --out DIR [--quick] [--only FIGURE[,FIGURE...]])");
                    System.exit(2);
                }
            }
        }
        List<Figure> figures = figures();
        List<String> names = figures.stream().map(Figure::name).toList();
        for (String name : only) {
            if (!names.contains(name)) {
                System.err.println("bench: no figure " + name + " (figures: " + String.join(", ", names) + ")");
                System.exit(2);
            }
        }
        Options options = new Options(out, quick, only);
        List<Result> results = new ArrayList<>();
        for (Figure f : figures) {
            if (!options.wants(f.name())) {
                continue;
            }
            System.err.println("bench: measuring " + f.name() + " ...");
            Result r;
            try {
                r = f.measure(options);
            } catch (Exception e) {
                r = Result.unmeasured(f.name(), "", "", "", e.toString());
            }
            results.add(r);
        }
        System.out.print(table(results));
        Path json = out.resolve("results.json");
        ResultsJson.write(json, results);
        System.out.println("results: " + json);
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            System.err.println("bench: " + flag + " needs a value");
            System.exit(2);
        }
        return args[i];
    }

    static String table(List<Result> results) {
        StringBuilder b = new StringBuilder();
        String row = "%-16s %-24s %10s %10s %7s %-14s %4s %-19s %s%n";
        b.append(String.format(Locale.ROOT, row, "figure", "unit", "hyper-gen", "peer", "ratio", "goal", "runs",
                "min..max", "peer / why"));
        for (Result r : results) {
            String range = r.min() == null ? "-" : fmt(r.min()) + ".." + fmt(r.max());
            String detail = r.why() != null ? "null: " + r.why() : r.peerName();
            b.append(String.format(Locale.ROOT, row, r.figure(), r.unit(), fmt(r.hyperGen()), fmt(r.peer()),
                    fmt(r.ratio()), r.goal(), r.runs(), range, detail));
        }
        for (Result r : results) {
            if (r.extra().get("byte_identical") instanceof Boolean same) {
                b.append(String.format(Locale.ROOT, "%s %s: hyper-gen's image byte-identical across two runs: %s%n",
                        r.figure(), r.unit(), same ? "yes" : "NO"));
            }
        }
        return b.toString();
    }

    private static String fmt(Double d) {
        return d == null ? "-" : String.format(Locale.ROOT, "%.3f", d);
    }
}
