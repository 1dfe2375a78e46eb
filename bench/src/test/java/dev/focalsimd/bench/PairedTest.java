package dev.focalsimd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.runner.options.CommandLineOptions;

/** {@code --paired}: its option parsing and the cells it runs (the runs themselves: CI's smoke). */
class PairedTest {

  @Test
  void specParsesNameAndTwoValues() {
    assertEquals(new Paired.Spec("parallelism", "1", "2"), Paired.Spec.parse("parallelism=1,2"));
    for (String bad : new String[] {"parallelism", "=1,2", "parallelism=1", "parallelism=1,2,8",
        "parallelism=1,", "parallelism=2,2"}) {
      BenchException e = assertThrows(BenchException.class, () -> Paired.Spec.parse(bad), bad);
      assertTrue(e.getMessage().contains("--paired " + bad), e.getMessage());
    }
  }

  @Test
  void cliTakesPairedAndRounds() {
    BenchMain.Cli c = BenchMain.Cli.parse(new String[] {"OptionsBench", "--paired=kernel=A,B",
        "--rounds", "3", "-f", "1"});
    assertEquals(new Paired.Spec("kernel", "A", "B"), c.paired);
    assertEquals(3, c.rounds);
    assertEquals(List.of("OptionsBench", "-f", "1"), c.jmh);
    for (String r : new String[] {"0", "101", "x", "1.5"}) {
      assertThrows(BenchException.class,
          () -> BenchMain.Cli.parse(new String[] {"--paired", "a=1,2", "--rounds", r}), r);
    }
  }

  @Test
  void cellsAreTheOtherParametersCombined() throws Exception {
    CommandLineOptions jmh = new CommandLineOptions("OptionsBench", "-p", "form=sigmoid,softmax");
    List<Paired.Cell> cells = Paired.cells(new Paired.Spec("parallelism", "1", "2"), jmh);
    // form (given: 2 values) x shape (declared: 2) x validate (declared: 2); parallelism is paired
    assertEquals(8, cells.size());
    for (Paired.Cell c : cells) {
      assertEquals("dev.focalsimd.bench.OptionsBench.forwardBackward", c.benchmark());
      assertEquals(3, c.params().size(), c.params().toString());
      assertTrue(List.of("sigmoid", "softmax").contains(c.params().get("form")));
    }
    assertEquals(8, cells.stream().map(Paired.Cell::params).distinct().count());
    Paired.Cell first = new Paired.Cell("dev.focalsimd.bench.OptionsBench.forwardBackward",
        new java.util.LinkedHashMap<>(Map.of("form", "sigmoid")));
    assertEquals("OptionsBench.forwardBackward form=sigmoid", first.label());
  }

  @Test
  void errors() {
    ErrorPathsTest.oneLineError(Fixtures.run("--paired", "parallelism=1,2"),
        "--paired needs a benchmark regex");
    ErrorPathsTest.oneLineError(Fixtures.run("OptionsBench", "--paired", "shapes=1,2"),
        "has no parameter shapes");
    ErrorPathsTest.oneLineError(Fixtures.run("NoSuchBench", "--paired", "parallelism=1,2"),
        "no benchmark matches");
    ErrorPathsTest.oneLineError(Fixtures.run("OptionsBench", "--paired", "parallelism=1,2",
        "--full"), "--paired takes --rounds and JMH options only, not --full");
    ErrorPathsTest.oneLineError(Fixtures.run("OptionsBench", "--paired", "parallelism=1,2",
        "--verbose"), "not --verbose");
    ErrorPathsTest.oneLineError(Fixtures.run("OptionsBench", "-p", "parallelism=1", "--paired",
        "parallelism=1,2"), "-p parallelism=... and --paired parallelism=... exclude each other");
    ErrorPathsTest.oneLineError(Fixtures.run("OptionsBench", "--paired", "parallelism=1,2",
        "--paired", "validate=true,false"), "--paired given twice");
    ErrorPathsTest.oneLineError(Fixtures.run("--rounds", "2"), "--rounds goes with --paired");
    ErrorPathsTest.oneLineError(Fixtures.run("OptionsBench", "--paired", "parallelism=1,2",
        "--peers-dir", "p"), "not --peers-dir");
    ErrorPathsTest.oneLineError(Fixtures.run("--like-ref", "--paired", "a=1,2"),
        "--like-ref takes --peers-dir only");
  }

  /** validate=maybe ran as false (JMH's Boolean.valueOf): only true and false are taken. */
  @Test
  void validateValuesAreTrueOrFalse() {
    ErrorPathsTest.oneLineError(Fixtures.run("ForwardBackwardBench", "--paired",
        "validate=true,maybe"), "--paired validate=true,maybe: validate is true or false, not maybe");
    ErrorPathsTest.oneLineError(Fixtures.run("OptionsBench", "--paired", "parallelism=1,2", "-p",
        "validate=FALSE"), "-p validate=FALSE: validate is true or false, not FALSE");
    ErrorPathsTest.oneLineError(Fixtures.run("OptionsBench", "--paired", "parallelism=1,2",
        "-bm", "foo"), "-bm foo: unknown benchmark mode foo");
    ErrorPathsTest.oneLineError(Fixtures.run("OptionsBench", "--paired", "parallelism=1,2",
        "-jvm", "/nonexistent/java"), "-jvm /nonexistent/java: no such file");
  }
}
