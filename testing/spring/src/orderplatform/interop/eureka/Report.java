package orderplatform.interop.eureka;

/** One JSON object per line on stdout, for the test that runs this program. */
final class Report {
  private Report() {}

  static synchronized void event(String name, String fields) {
    System.out.println("{\"event\":\"" + name + "\"" + (fields.isEmpty() ? "" : "," + fields) + "}");
    System.out.flush();
  }

  static String quote(String s) {
    if (s == null) return "null";
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }
}
