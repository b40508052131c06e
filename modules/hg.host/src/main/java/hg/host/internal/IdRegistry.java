package hg.host.internal;

import java.util.HashMap;
import java.util.Map;

/**
 * The ids of one directory's files for the life of the shell: a file name gets the next id the first time it is
 * seen usable, keeps it across rescans, and no other name ever gets it, even after the file is gone. So an id
 * the user read in kernel_list or image_list still means that file when a file is added or removed meanwhile.
 */
public final class IdRegistry {
    private final Map<String, Integer> ids = new HashMap<>();

    public synchronized int idFor(String fileName) {
        return ids.computeIfAbsent(fileName, name -> ids.size());
    }
}
