package dev.reft.tasks;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Answer extraction and comparison, as the official ReFT code does them.
 *
 * <ul>
 *   <li>N-CoT: the number right after the last {@code answer is} (case-insensitive, optional colon), tolerant of
 *       {@code $}, thousands commas, angle brackets ({@code the answer is <16>.}), parentheses, a trailing
 *       {@code %} or period; a GSM8K {@code #### N} line counts as the same kind of marker. Whichever marker
 *       comes last in the text is the one read; if no number follows it, there is no answer.
 *   <li>MCQ: the option letter a–e right after the last {@code answer is}, compared lower-cased.
 *   <li>Numbers match when {@code |pred - gold| <= 1e-2}.
 * </ul>
 *
 * <p>Extracted numbers are returned in a canonical plain form: commas and {@code +} removed, fractions kept as
 * {@code a/b}. All methods are pure and thread-safe.
 */
public final class Answers {

  /** The ReFT tolerance for numeric answers. */
  public static final BigDecimal TOLERANCE = new BigDecimal("0.01");

  private static final Pattern MARKER = Pattern.compile("(?i)answer\\s+is|####");
  private static final Pattern NUMBER = Pattern.compile(
      "^([-+]?)\\s*\\$?\\s*([-+]?)((?:\\d{1,3}(?:,\\d{3})+|\\d+)(?:\\.\\d+)?|\\.\\d+)(?:\\s*/\\s*(\\d+(?:\\.\\d+)?))?");
  private static final Pattern LETTER = Pattern.compile("^([a-eA-E])(?![A-Za-z])");
  private static final Pattern PLAIN_NUMBER = Pattern.compile(
      "[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?(?:/\\d+(?:\\.\\d+)?)?");

  private Answers() {}

  /** The numeric answer of an N-CoT text, or empty when none can be extracted. */
  public static Optional<String> extractNumber(String text) {
    String rest = afterLastMarker(text);
    if (rest == null) {
      return Optional.empty();
    }
    Matcher m = NUMBER.matcher(rest);
    if (!m.find()) {
      return Optional.empty();
    }
    boolean negative = "-".equals(m.group(1)) ^ "-".equals(m.group(2));
    String number = m.group(3).replace(",", "");
    if (number.startsWith(".")) {
      number = "0" + number;
    }
    String canonical = (negative ? "-" : "") + number + (m.group(4) == null ? "" : "/" + m.group(4));
    return Optional.of(canonical);
  }

  /** The option letter (lower case) of an MCQ text, or empty when none can be extracted. */
  public static Optional<String> extractLetter(String text) {
    String rest = afterLastMarker(text);
    if (rest == null) {
      return Optional.empty();
    }
    Matcher m = LETTER.matcher(rest);
    return m.find() ? Optional.of(m.group(1).toLowerCase(Locale.ROOT)) : Optional.empty();
  }

  /**
   * The text after the last answer marker with leading separators ({@code :}, spaces, {@code <}, {@code (},
   * {@code [}, {@code *}) removed; {@code null} when the text has no marker.
   */
  private static String afterLastMarker(String text) {
    if (text == null) {
      return null;
    }
    Matcher m = MARKER.matcher(text);
    int end = -1;
    while (m.find()) {
      end = m.end();
    }
    if (end < 0) {
      return null;
    }
    int i = end;
    while (i < text.length() && " \t\r\n:<([*".indexOf(text.charAt(i)) >= 0) {
      i++;
    }
    return text.substring(i);
  }

  /**
   * Parses a number as found in data files, extracted answers and Python return values: plain decimals,
   * thousands commas, a leading {@code $}, exponents ({@code 1e+20}), fractions ({@code 3/4}). Empty for text
   * that is not a finite number ({@code inf}, {@code nan}, words).
   */
  public static Optional<BigDecimal> parseNumber(String text) {
    if (text == null) {
      return Optional.empty();
    }
    String s = text.strip().replace(",", "");
    if (s.startsWith("$")) {
      s = s.substring(1);
    } else if (s.startsWith("-$")) {
      s = "-" + s.substring(2);
    }
    if (s.endsWith("%")) {
      s = s.substring(0, s.length() - 1);
    }
    if (!PLAIN_NUMBER.matcher(s).matches()) {
      return Optional.empty();
    }
    try {
      int slash = s.indexOf('/');
      if (slash < 0) {
        return Optional.of(new BigDecimal(s));
      }
      BigDecimal denominator = new BigDecimal(s.substring(slash + 1));
      if (denominator.signum() == 0) {
        return Optional.empty();
      }
      return Optional.of(new BigDecimal(s.substring(0, slash)).divide(denominator, MathContext.DECIMAL64));
    } catch (NumberFormatException | ArithmeticException e) {
      return Optional.empty();
    }
  }

  /** Whether two numbers are equal within {@link #TOLERANCE}. */
  public static boolean numbersMatch(BigDecimal predicted, BigDecimal gold) {
    return predicted.subtract(gold).abs().compareTo(TOLERANCE) <= 0;
  }

  /** The option letter of an MCQ gold answer ({@code "c"}, {@code "C"}, {@code "c )"}), lower case. */
  public static Optional<String> goldLetter(String gold) {
    if (gold == null) {
      return Optional.empty();
    }
    Matcher m = LETTER.matcher(gold.strip());
    return m.find() ? Optional.of(m.group(1).toLowerCase(Locale.ROOT)) : Optional.empty();
  }

  /**
   * A numeric answer written the way the N-CoT target states it: {@code "203.0"} → {@code "203"},
   * {@code "17.60"} → {@code "17.6"}, {@code "1,000"} → {@code "1000"}. Text that is not a number (an MCQ
   * letter) is returned stripped.
   */
  public static String format(String answer) {
    String s = answer.strip();
    if (s.contains("/")) {
      return s;
    }
    return parseNumber(s).map(n -> {
      BigDecimal stripped = n.stripTrailingZeros();
      return stripped.scale() < 0 ? stripped.setScale(0).toPlainString() : stripped.toPlainString();
    }).orElse(s);
  }
}
