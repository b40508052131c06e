package hg.bench;

import java.util.Arrays;

/** Median, min and max of a few runs. */
record Stats(double median, double min, double max, int runs) {
    static Stats of(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        double median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        return new Stats(median, v[0], v[n - 1], n);
    }
}
