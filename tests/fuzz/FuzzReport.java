import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Sums up the rounds of {@code ./hg fuzz}: the jqwik reports that Surefire kept in its XML
 * files, one folder per round. Prints the tries per property, the failures and the seeds that
 * reproduce them (jqwik prints each property's seed with its report). Run with the JDK's source
 * launcher: {@code java FuzzReport.java ROUND_DIR...}; exits 1 when a property failed.
 */
public class FuzzReport {
    private static final Pattern TESTCASE = Pattern.compile("<testcase name=\"([^\"]*)\" classname=\"([^\"]*)\"(.*?)</testcase>",
            Pattern.DOTALL);
    private static final Pattern REPORT = Pattern.compile("(\\w+):(\\w+) = \\s*\\n\\s*\\|-+jqwik-+\\s*\\ntries = (\\d+).*?seed = (-?\\d+)",
            Pattern.DOTALL);

    record Run(String property, long tries, String seed, boolean failed) {}

    public static void main(String[] args) throws IOException {
        List<Run> runs = new ArrayList<>();
        int rounds = 0;
        for (String dir : args) {
            rounds++;
            try (Stream<Path> files = Files.walk(Path.of(dir))) {
                for (Path f : files.filter(p -> p.getFileName().toString().matches("TEST-.*\\.xml")).toList()) {
                    runs.addAll(read(Files.readString(f)));
                }
            }
        }
        long tries = runs.stream().mapToLong(Run::tries).sum();
        List<Run> failed = runs.stream().filter(Run::failed).toList();
        long properties = runs.stream().map(Run::property).distinct().count();
        System.out.printf("fuzz: %d rounds, %d properties, %d tries, %d failures%n", rounds, properties, tries, failed.size());
        runs.stream().map(Run::property).distinct().sorted().forEach(p -> System.out.printf("fuzz:   %-90s %9d tries%n", p,
                runs.stream().filter(r -> r.property().equals(p)).mapToLong(Run::tries).sum()));
        for (Run r : failed) {
            System.out.printf("fuzz: FAILED %s with seed %s (reproduce: @Property(seed = \"%s\"))%n", r.property(), r.seed(), r.seed());
        }
        System.exit(failed.isEmpty() ? 0 : 1);
    }

    static List<Run> read(String xml) {
        List<Run> out = new ArrayList<>();
        Matcher c = TESTCASE.matcher(xml);
        while (c.find()) {
            String body = c.group(3);
            boolean failed = body.contains("<failure") || body.contains("<error");
            Matcher r = REPORT.matcher(body);
            while (r.find()) {
                out.add(new Run(r.group(1) + "." + r.group(2), Long.parseLong(r.group(3)), r.group(4), failed));
            }
        }
        return out;
    }
}
