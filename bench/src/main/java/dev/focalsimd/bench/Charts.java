package dev.focalsimd.bench;

import dev.focalsimd.bench.Reports.CompareKey;
import dev.focalsimd.bench.Reports.RowKey;
import dev.focalsimd.bench.ResultFile.Entry;
import java.awt.Color;
import java.awt.Font;
import java.awt.Rectangle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.svg.SVGGraphics2D;

/**
 * Grouped bar charts of bench results with JFreeChart: PNG, or SVG through JFreeSVG, chosen by
 * the file name's extension.
 */
final class Charts {

  private Charts() {}

  /** One run: a group per form and shape, a bar per kernel (and vector width). */
  static void runChart(ResultFile file, Path out) {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    int preferred = file.header().vectorBitSize();
    Set<String> variants = new TreeSet<>(Reports.VARIANT_ORDER);
    for (Entry e : file.results()) {
      variants.add(e.variant());
    }
    for (Map.Entry<RowKey, Map<String, Entry>> r : Reports.byRow(file.results()).entrySet()) {
      String category = r.getKey().formLabel() + " " + r.getKey().shape();
      for (String v : variants) {
        Entry e = r.getValue().get(v);
        data.addValue(e == null ? null : e.melemPerSec(), Reports.variantLabel(v, preferred),
            category);
      }
    }
    String title = "focal-simd forwardBackward throughput";
    String subtitle = file.header().cpuModel() + " | JDK " + file.header().jdkVersion() + " | "
        + file.header().profile() + " profile, one thread";
    write(data, title, subtitle, "form, N x C", out);
  }

  /** A comparison: a group per form, shape and kernel, a bar per result file. */
  static void compareChart(List<Path> paths, List<ResultFile> files, Path out) {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    for (Map.Entry<CompareKey, Entry[]> r : Reports.compareRows(files).entrySet()) {
      RowKey k = r.getKey().row();
      String category = k.formLabel() + " " + k.shape() + " "
          + Reports.variantLabel(r.getKey().variant(), 0);
      Entry[] es = r.getValue();
      for (int i = 0; i < es.length; i++) {
        data.addValue(es[i] == null ? null : es[i].melemPerSec(), seriesName(i, files.get(i)),
            category);
      }
    }
    write(data, "focal-simd forwardBackward throughput: " + files.size() + " result file"
        + (files.size() == 1 ? "" : "s"), "one thread; one bar per result file",
        "form, N x C, kernel", out);
  }

  static String seriesName(int i, ResultFile f) {
    return "[" + (i + 1) + "] " + f.header().cpuModel() + ", JDK " + f.header().jdkVersion()
        + (f.header().vectorBitSize() > 0 ? ", " + f.header().vectorBitSize() + "-bit" : "");
  }

  private static void write(DefaultCategoryDataset data, String title, String subtitle,
      String categoryLabel, Path out) {
    String name = out.getFileName().toString().toLowerCase(Locale.ROOT);
    boolean svg = name.endsWith(".svg");
    if (!svg && !name.endsWith(".png")) {
      throw new BenchException("--chart " + out + ": the file name must end in .png or .svg");
    }
    System.setProperty("java.awt.headless", "true");
    int bars = Math.max(1, data.getColumnCount() * data.getRowCount());
    int width = Math.max(900, Math.min(4000, 120 + bars * 16 + data.getColumnCount() * 12));
    int height = 640;
    try {
      JFreeChart chart = ChartFactory.createBarChart(title, categoryLabel, "Melem/s (higher is better)",
          data, PlotOrientation.VERTICAL, true, false, false);
      chart.addSubtitle(new TextTitle(subtitle, new Font(Font.SANS_SERIF, Font.PLAIN, 12)));
      chart.setBackgroundPaint(Color.WHITE);
      CategoryPlot plot = chart.getCategoryPlot();
      plot.setBackgroundPaint(Color.WHITE);
      plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
      CategoryAxis axis = plot.getDomainAxis();
      axis.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
      axis.setMaximumCategoryLabelLines(2);
      BarRenderer r = (BarRenderer) plot.getRenderer();
      r.setBarPainter(new StandardBarPainter());
      r.setShadowVisible(false);
      r.setItemMargin(0.02);
      Color[] palette = {new Color(0x4477AA), new Color(0xEE6677), new Color(0x228833),
          new Color(0xCCBB44), new Color(0x66CCEE), new Color(0xAA3377), new Color(0xBBBBBB)};
      for (int i = 0; i < data.getRowCount(); i++) {
        r.setSeriesPaint(i, palette[i % palette.length]);
      }
      Path parent = out.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      if (svg) {
        SVGGraphics2D g2 = new SVGGraphics2D(width, height);
        chart.draw(g2, new Rectangle(0, 0, width, height));
        Files.writeString(out, g2.getSVGDocument(), StandardCharsets.UTF_8);
      } else {
        ChartUtils.saveChartAsPNG(out.toFile(), chart, width, height);
      }
    } catch (IOException e) {
      throw new BenchException("--chart " + out + ": cannot write: " + BenchMain.reason(e));
    } catch (RuntimeException | LinkageError e) {
      throw new BenchException("--chart " + out + ": cannot draw the chart (" + e
          + "); headless Java needs fonts (fontconfig) installed");
    }
  }
}
