package dev.reft.tasks;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reft.schemas.CotStyle;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Streaming readers for the math data sets, and a writer for the ReFT JSON format.
 *
 * <ul>
 *   <li><b>GSM8K JSONL</b> ({@code *.jsonl}): one {@code {"question", "answer"}} object per line; the gold answer
 *       follows {@code "#### "} (commas removed). The chain of thought is the whole answer text as written
 *       (calculator annotations and the {@code ####} line included); {@link Prompts#target} cleans it. Item ids
 *       are {@code gsm8k_<line index>}.
 *   <li><b>ReFT JSON</b> ({@code *.json}): an array of {@code {item_id, question, answer_cot?, answer_value}}
 *       (and {@code difficulty} in synthetic files); the data set is the {@code item_id} prefix before the first
 *       {@code _} (gsm8k, svamp, mathqa, mathqa-numeric, synthetic).
 * </ul>
 *
 * <p>Files are read as UTF-8, one item at a time; streams must be closed (try-with-resources). Malformed input
 * raises a {@link DatasetFormatException} naming the file and the line or item; nothing is skipped silently.
 *
 * <p>Styles: a file whose name contains {@code python}, {@code pcot} or {@code sdp} holds P-CoT programs,
 * otherwise N-CoT; N-CoT items of the {@code mathqa} data set are multiple choice ({@link CotStyle#MCQ}).
 */
public final class Datasets {

  /** Data set names accepted as {@code item_id} prefixes. */
  public static final Set<String> KNOWN_DATASETS = Set.of("gsm8k", "svamp", "mathqa", "mathqa-numeric", "synthetic");

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String GSM8K_MARKER = "####";

  private Datasets() {}

  /** All problems of a file, style inferred from its name (see the class comment). */
  public static List<Problem> read(Path file) {
    return read(file, null);
  }

  /** All problems of a file; {@code style} null = inferred from the file name. */
  public static List<Problem> read(Path file, CotStyle style) {
    try (Stream<Problem> s = stream(file, style)) {
      return s.toList();
    }
  }

  /**
   * The problems of a GSM8K JSONL or ReFT JSON file (by extension), one at a time.
   *
   * @param style the style of every item, or null to infer it from the file name
   */
  public static Stream<Problem> stream(Path file, CotStyle style) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    CotStyle resolved = style != null ? style : inferStyle(file);
    if (name.endsWith(".jsonl")) {
      return streamGsm8kJsonl(file, resolved);
    }
    if (name.endsWith(".json")) {
      return streamReftJson(file, resolved);
    }
    throw new DatasetFormatException(file, "file name", "expected a .jsonl (GSM8K) or .json (ReFT) file", null);
  }

  /** The style a file's name suggests: P-CoT for {@code *python*}, {@code *pcot*}, {@code *sdp*}, else N-CoT. */
  public static CotStyle inferStyle(Path file) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    return name.contains("python") || name.contains("pcot") || name.contains("sdp") ? CotStyle.PCOT : CotStyle.NCOT;
  }

  /** The data set of an item id: its prefix before the first {@code _} ({@code mathqa-numeric_12} → {@code mathqa-numeric}). */
  public static String datasetOf(String itemId) {
    int underscore = itemId.indexOf('_');
    String prefix = underscore < 0 ? itemId : itemId.substring(0, underscore);
    if (!KNOWN_DATASETS.contains(prefix)) {
      throw new IllegalArgumentException("unknown data set '" + prefix + "' in item_id '" + itemId
          + "' (known: " + String.join(", ", KNOWN_DATASETS.stream().sorted().toList()) + ")");
    }
    return prefix;
  }

  /** Reads a GSM8K JSONL file (see the class comment). */
  public static Stream<Problem> streamGsm8kJsonl(Path file, CotStyle style) {
    BufferedReader reader = open(file);
    Iterator<Problem> it = new Iterator<>() {
      private int lineNumber;
      private int index;
      private Problem next;

      @Override
      public boolean hasNext() {
        if (next != null) {
          return true;
        }
        try {
          String line;
          while ((line = reader.readLine()) != null) {
            lineNumber++;
            if (!line.isBlank()) {
              next = parseGsm8kLine(file, lineNumber, index++, line, style);
              return true;
            }
          }
          return false;
        } catch (CharacterCodingException e) {
          throw new DatasetFormatException(file, "line " + (lineNumber + 1), "not valid UTF-8", e);
        } catch (IOException e) {
          throw new UncheckedIOException("reading " + file, e);
        }
      }

      @Override
      public Problem next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        Problem p = next;
        next = null;
        return p;
      }
    };
    return toStream(it, reader);
  }

  private static Problem parseGsm8kLine(Path file, int lineNumber, int index, String line, CotStyle style) {
    String where = "line " + lineNumber;
    JsonNode node;
    try {
      node = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      throw new DatasetFormatException(file, where, "not a JSON object: " + e.getOriginalMessage(), e);
    }
    if (node == null || !node.isObject()) {
      throw new DatasetFormatException(file, where, "expected a JSON object with \"question\" and \"answer\"", null);
    }
    String question = requiredText(file, where, node, "question");
    String answer = requiredText(file, where, node, "answer");
    int marker = answer.lastIndexOf(GSM8K_MARKER);
    if (marker < 0) {
      throw new DatasetFormatException(file, where, "the answer has no '#### <number>' line", null);
    }
    String gold = answer.substring(marker + GSM8K_MARKER.length()).strip().replace(",", "");
    if (Answers.parseNumber(gold).isEmpty()) {
      throw new DatasetFormatException(file, where, "gold answer after '####' is not a number: '" + gold + "'", null);
    }
    return new Problem("gsm8k_" + index, "gsm8k", question, gold, answer, style, 0);
  }

  /** Reads a ReFT JSON array file (see the class comment). */
  public static Stream<Problem> streamReftJson(Path file, CotStyle style) {
    BufferedReader reader = open(file);
    JsonParser parser;
    try {
      parser = JSON.getFactory().createParser(reader);
      if (parser.nextToken() != JsonToken.START_ARRAY) {
        throw new DatasetFormatException(file, "line " + parser.currentLocation().getLineNr(),
            "expected a JSON array of items", null);
      }
    } catch (IOException e) {
      closeQuietly(reader);
      throw wrap(file, "start", e);
    } catch (RuntimeException e) {
      closeQuietly(reader);
      throw e;
    }
    Iterator<Problem> it = new Iterator<>() {
      private int index;
      private Problem next;
      private boolean done;

      @Override
      public boolean hasNext() {
        if (next != null) {
          return true;
        }
        if (done) {
          return false;
        }
        int line = parser.currentLocation().getLineNr();
        try {
          JsonToken token = parser.nextToken();
          line = parser.currentLocation().getLineNr();
          if (token == JsonToken.END_ARRAY) {
            done = true;
            return false;
          }
          if (token == null) {
            throw new DatasetFormatException(file, "item " + index + ", line " + line, "unexpected end of file", null);
          }
          if (token != JsonToken.START_OBJECT) {
            throw new DatasetFormatException(file, "item " + index + ", line " + line, "expected a JSON object", null);
          }
          JsonNode node = parser.readValueAsTree();
          next = parseReftItem(file, index, line, node, style);
          index++;
          return true;
        } catch (IOException e) {
          throw wrap(file, "item " + index + ", line " + line, e);
        }
      }

      @Override
      public Problem next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        Problem p = next;
        next = null;
        return p;
      }
    };
    return toStream(it, () -> {
      parser.close();
      reader.close();
    });
  }

  private static Problem parseReftItem(Path file, int index, int line, JsonNode node, CotStyle style) {
    JsonNode idNode = node.get("item_id");
    String id = idNode != null && idNode.isValueNode() ? idNode.asText() : null;
    String where = "item " + index + (id == null ? "" : " (" + id + ")") + ", line " + line;
    if (id == null || id.isBlank()) {
      throw new DatasetFormatException(file, where, "missing \"item_id\"", null);
    }
    String dataset;
    try {
      dataset = datasetOf(id);
    } catch (IllegalArgumentException e) {
      throw new DatasetFormatException(file, where, e.getMessage(), e);
    }
    String question = requiredText(file, where, node, "question");
    String gold = requiredText(file, where, node, "answer_value").strip();
    JsonNode cotNode = node.get("answer_cot");
    if (cotNode != null && !cotNode.isNull() && !cotNode.isTextual()) {
      throw new DatasetFormatException(file, where, "\"answer_cot\" must be a string", null);
    }
    String cot = cotNode == null || cotNode.isNull() ? null : cotNode.asText();
    CotStyle itemStyle = style == CotStyle.NCOT && dataset.equals("mathqa") ? CotStyle.MCQ : style;
    if (itemStyle == CotStyle.MCQ ? Answers.goldLetter(gold).isEmpty() : Answers.parseNumber(gold).isEmpty()) {
      throw new DatasetFormatException(file, where, "\"answer_value\" is not "
          + (itemStyle == CotStyle.MCQ ? "an option letter a-e" : "a number") + ": '" + gold + "'", null);
    }
    JsonNode difficultyNode = node.get("difficulty");
    int difficulty = 0;
    if (difficultyNode != null && !difficultyNode.isNull()) {
      if (!difficultyNode.canConvertToInt() || difficultyNode.asInt() < 0) {
        throw new DatasetFormatException(file, where, "\"difficulty\" must be a non-negative integer", null);
      }
      difficulty = difficultyNode.asInt();
    }
    return new Problem(id, dataset, question, gold, cot, itemStyle, difficulty);
  }

  private static String requiredText(Path file, String where, JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      throw new DatasetFormatException(file, where, "missing \"" + field + "\"", null);
    }
    if (!value.isTextual() && !value.isNumber()) {
      throw new DatasetFormatException(file, where, "\"" + field + "\" must be a string", null);
    }
    return value.asText();
  }

  /**
   * Writes problems as a ReFT JSON array ({@code item_id, question, answer_cot, answer_value}, plus
   * {@code difficulty} when it is known), pretty-printed so that a person can read it.
   */
  public static void writeReftJson(Path file, List<Problem> problems) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    DefaultIndenter indenter = new DefaultIndenter("  ", "\n");
    DefaultPrettyPrinter printer = new DefaultPrettyPrinter()
        .withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER))
        .withObjectIndenter(indenter);
    printer.indentArraysWith(indenter);
    try (Writer writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
        JsonGenerator g = new JsonFactory().createGenerator(writer)) {
      g.setPrettyPrinter(printer);
      g.writeStartArray();
      for (Problem p : problems) {
        g.writeStartObject();
        g.writeStringField("item_id", p.id());
        g.writeStringField("question", p.question());
        if (p.cot() != null) {
          g.writeStringField("answer_cot", p.cot());
        }
        g.writeStringField("answer_value", p.goldAnswer());
        if (p.difficulty() > 0) {
          g.writeNumberField("difficulty", p.difficulty());
        }
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeRaw('\n');
    }
  }

  private static BufferedReader open(Path file) {
    try {
      return Files.newBufferedReader(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open data file " + file, e);
    }
  }

  private static RuntimeException wrap(Path file, String where, IOException e) {
    if (e instanceof JsonProcessingException j) {
      return new DatasetFormatException(file, where, "malformed JSON: " + j.getOriginalMessage(), e);
    }
    if (e instanceof CharacterCodingException) {
      return new DatasetFormatException(file, where, "not valid UTF-8", e);
    }
    return new UncheckedIOException("reading " + file, e);
  }

  private static Stream<Problem> toStream(Iterator<Problem> it, AutoCloseable resource) {
    return StreamSupport.stream(
            Spliterators.spliteratorUnknownSize(it, Spliterator.ORDERED | Spliterator.NONNULL), false)
        .onClose(() -> {
          try {
            resource.close();
          } catch (Exception e) {
            throw new IllegalStateException("closing data file", e);
          }
        });
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception ignored) {
      // already failing
    }
  }
}
