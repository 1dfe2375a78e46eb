package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The vendored golden vectors (testdata/golden) against the project's canonical ones
 * (../shared/golden): the same file names, the same bytes. Where ../shared/golden is absent (a
 * clean clone, GitHub Actions) there is nothing to compare with and the comparison is skipped,
 * saying why.
 */
class GoldenDriftTest {

  @Test
  void vendoredCopyIsComplete() throws IOException {
    Path vendored = GoldenCase.vendoredDir();
    Set<String> names = files(vendored);
    assertTrue(names.contains("README.md"), "no README.md (the schema) in " + vendored);
    assertTrue(names.stream().anyMatch(n -> n.endsWith(".json")), "no golden .json in " + vendored);
  }

  @Test
  void vendoredCopyMatchesSharedGolden() throws IOException {
    Optional<Path> shared = GoldenCase.sharedDir();
    assumeTrue(shared.isPresent(), () -> GoldenCase.SHARED + " does not exist beside "
        + GoldenCase.repoRoot() + ": no canonical copy to compare " + GoldenCase.VENDORED
        + " with (expected on a clean clone and on GitHub Actions)");
    Path canonical = shared.get();
    Path vendored = GoldenCase.vendoredDir();
    Set<String> inShared = files(canonical);
    Set<String> inVendored = files(vendored);
    Set<String> all = new TreeSet<>(inShared);
    all.addAll(inVendored);
    List<String> drift = new ArrayList<>();
    for (String name : all) {
      if (!inVendored.contains(name)) {
        drift.add(name + ": in " + canonical + ", missing from " + vendored);
      } else if (!inShared.contains(name)) {
        drift.add(name + ": in " + vendored + ", not in " + canonical);
      } else {
        Path a = canonical.resolve(name);
        Path b = vendored.resolve(name);
        long at = Files.mismatch(a, b);
        if (at != -1) {
          drift.add(name + ": differs from byte " + at + " (" + Files.size(a) + " bytes in "
              + canonical + ", " + Files.size(b) + " in " + vendored + ")");
        }
      }
    }
    assertTrue(drift.isEmpty(), () -> GoldenCase.VENDORED + " has drifted from " + GoldenCase.SHARED
        + " (refresh it as testdata/README.md says):\n  " + String.join("\n  ", drift));
  }

  /** The regular files under dir, as relative paths with '/' separators. */
  private static Set<String> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile)
          .map(p -> dir.relativize(p).toString().replace('\\', '/'))
          .collect(Collectors.toCollection(TreeSet::new));
    }
  }
}
