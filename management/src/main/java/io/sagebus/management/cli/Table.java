package io.sagebus.management.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain-text table: a header row and rows, columns padded to their widest cell; numbers to the right.
 */
final class Table {

  private final List<String> headers;
  private final List<List<String>> rows = new ArrayList<>();
  private boolean showHeaders = true;

  Table(String... headers) {
    this.headers = List.of(headers);
  }

  /** {@return this table, printed without its header row} */
  Table withoutHeaders() {
    showHeaders = false;
    return this;
  }

  Table row(Object... cells) {
    if (cells.length != headers.size()) {
      throw new IllegalArgumentException("expected " + headers.size() + " cells, got " + cells.length);
    }
    List<String> row = new ArrayList<>(cells.length);
    for (Object c : cells) {
      row.add(c == null ? "-" : String.valueOf(c));
    }
    rows.add(row);
    return this;
  }

  void print(PrintWriter out) {
    int[] widths = new int[headers.size()];
    boolean[] numeric = new boolean[headers.size()];
    for (int i = 0; i < widths.length; i++) {
      widths[i] = headers.get(i).length();
      numeric[i] = !rows.isEmpty();
    }
    for (List<String> row : rows) {
      for (int i = 0; i < widths.length; i++) {
        widths[i] = Math.max(widths[i], row.get(i).length());
        numeric[i] &= row.get(i).matches("-?[0-9][0-9.,]*( ?[a-zA-Z%/]+)?|-");
      }
    }
    if (showHeaders) {
      line(out, headers, widths, new boolean[widths.length]);
    }
    for (List<String> row : rows) {
      line(out, row, widths, numeric);
    }
    out.flush();
  }

  private static void line(PrintWriter out, List<String> cells, int[] widths, boolean[] right) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      String c = cells.get(i);
      String pad = " ".repeat(widths[i] - c.length());
      boolean last = i == cells.size() - 1;
      sb.append(right[i] ? pad + c : last ? c : c + pad);
      if (!last) {
        sb.append("  ");
      }
    }
    out.println(sb);
  }
}
